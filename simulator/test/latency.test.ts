import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine.ts';
import { createLatencyModel } from '../src/latency.ts';
import { createRandom } from '../src/prng.ts';

const engineRunning = (runningCount: number) => ({ runningCount }) as Engine;
const base = { ttftMs: 100, ttftSpreadMs: 0, itlMs: 10, itlSpreadMs: 0, maxNumSeqs: 5 };

describe('latency model', () => {
  it('grows linearly from 1× (one running) to load-factor× (full batch)', () => {
    const at = (running: number) =>
      createLatencyModel({ ...base, loadFactor: 3 }, createRandom(1), engineRunning(running));
    expect(at(1).ttftMs()).toBe(100);
    expect(at(3).ttftMs()).toBe(200);
    expect(at(5).itlMs()).toBe(30);
  });

  it('keeps jitter within ±spread and never negative', () => {
    const model = createLatencyModel(
      { ...base, ttftSpreadMs: 20, itlSpreadMs: 50, loadFactor: 1 },
      createRandom(3),
      engineRunning(1),
    );
    for (let i = 0; i < 200; i++) {
      const ttft = model.ttftMs();
      expect(ttft).toBeGreaterThanOrEqual(80);
      expect(ttft).toBeLessThanOrEqual(120);
      expect(model.itlMs()).toBeGreaterThanOrEqual(0);
    }
  });

  it('is exactly zero when asked for zero', () => {
    const model = createLatencyModel({ ...base, ttftMs: 0, itlMs: 0, loadFactor: 4 }, createRandom(1), engineRunning(5));
    expect([model.ttftMs(), model.itlMs()]).toEqual([0, 0]);
  });
});
