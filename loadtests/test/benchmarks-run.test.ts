// The benchmarks are measured by hand on a quiet machine (README, Performance), never asserted on time.
// What is checked here is that the GraphQL one still runs to its report on today's platform, with small
// numbers and no errors: it silently stopped working once (when the API began capping connections per
// address), which left the README's figures unreproducible. (The inference benchmark and the load
// harness share its process and store helpers.)
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

function runBench(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, out }));
  });
}

describe('the benchmarks still run', { timeout: 180_000 }, () => {
  it('graphql-bench: 300 subscribers from one address (more than one client may open) all get every event from both servers', async () => {
    const { code, out } = await runBench('loadtests/graphql-bench.ts', ['--subscribers', '300', '--events', '5', '--rate', '10', '--query-seconds', '1']);
    expect(code, out).toBe(0);
    expect(out).toContain('| sockets open | 300 | 300 |');
    expect(out).toContain('| delivered / lost / errors | 1500 / 0 / 0 | 1500 / 0 / 0 |');
    expect(out).toMatch(/Dashboard query .*errors 0\./);
  });
});
