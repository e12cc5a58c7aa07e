import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/inference/circuit-breaker.ts';
import { SseRelay } from '../../src/inference/sse-relay.ts';

const event = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const chunk = (content: string, extra: object = {}) => ({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }], ...extra });
const role = event({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] });
const usageEvent = event({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });
const body = role + event(chunk('Héllo')) + event(chunk(' wörld 🌍')) + event(chunk('!')) + usageEvent + event('[DONE]');

/** Splits bytes at the given cut points, as TCP reads would. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

function relay(chunks: Buffer[], strip: boolean) {
  const r = new SseRelay({ stripUsageChunk: strip, chat: true });
  const out: Buffer[] = [];
  for (const c of chunks) {
    const b = r.push(c);
    if (b) out.push(b);
  }
  const rest = r.finish();
  if (rest) out.push(rest);
  return { r, text: Buffer.concat(out).toString('utf8') };
}

describe('SseRelay', () => {
  it('forwards every byte unchanged, however the stream is split, and finds the usage', () => {
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
      const { r, text } = relay(split(Buffer.from(body), cuts), false);
      expect(text).toBe(body);
      expect(r.usage?.completion_tokens).toBe(3);
      expect(r.sawDone).toBe(true);
      expect(r.tokenEvents).toBe(3);
    }));
  });

  it('cuts exactly the usage-only chunk when stripping, however the stream is split', () => {
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
      const { r, text } = relay(split(Buffer.from(body), cuts), true);
      expect(text).toBe(body.replace(usageEvent, ''));
      expect(r.usage?.prompt_tokens).toBe(7);
    }));
  });

  it('keeps usage carried on a content chunk and notices error events and missing [DONE]', () => {
    const withUsage = event(chunk('x', { usage: { prompt_tokens: 1, completion_tokens: 1 } }));
    const { r, text } = relay([Buffer.from(withUsage)], true);
    expect(text).toBe(withUsage);
    expect(r.usage?.completion_tokens).toBe(1);
    expect(r.sawDone).toBe(false);
    const failed = relay([Buffer.from(role + event({ error: { message: 'boom', code: 500 } }))], false);
    expect(failed.r.error).toMatchObject({ message: 'boom' });
  });
});

describe('CircuitBreaker', () => {
  it('opens after the threshold, lets one probe through after the cooldown, and closes on success', () => {
    let now = 0;
    const states: string[] = [];
    const b = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 100, now: () => now, onChange: (s) => states.push(s) });
    b.failure();
    expect(b.available()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.acquire()).toBe(false);
    now = 100;
    expect(b.acquire()).toBe(true);
    expect(b.state).toBe('half-open');
    expect(b.acquire()).toBe(false);
    b.failure();
    expect(b.state).toBe('open');
    now = 200;
    expect(b.acquire()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });
});
