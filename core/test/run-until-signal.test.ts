import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// Issue 13, item 1: a repeated SIGTERM must not skip the drain; only a third signal forces the exit.
const script = fileURLToPath(new URL('./fixtures/signal-child.ts', import.meta.url));
let child: ChildProcess | undefined;
afterEach(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
});

function start() {
  const proc = fork(script, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: string[] = [];
  const waiters: [string, () => void][] = [];
  proc.on('message', (m) => {
    messages.push(String(m));
    for (const [want, resolve] of waiters) if (String(m).startsWith(want)) resolve();
  });
  const next = (want: string) => messages.some((m) => m.startsWith(want)) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push([want, resolve]));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  child = proc;
  return { proc, next, exited, messages };
}

describe('runUntilSignal', () => {
  it('a second SIGTERM during the drain is ignored: the service finishes stopping and the process exits 0', async () => {
    const { proc, next, exited } = start();
    await next('started');
    proc.kill('SIGTERM');
    await next('draining');
    proc.kill('SIGTERM');
    await Promise.race([next('log:already shutting down'), exited.then((code) => Promise.reject(new Error(`exited with ${code} during the drain`)))]);
    expect(proc.exitCode).toBeNull();
    proc.send('finish');
    expect(await exited).toBe(0);
  });

  it('a third signal exits at once with 1', async () => {
    const { proc, next, exited } = start();
    await next('started');
    proc.kill('SIGTERM');
    await next('draining');
    proc.kill('SIGINT');
    await next('log:already shutting down');
    proc.kill('SIGTERM');
    expect(await exited).toBe(1);
  });
});
