import { spawn, type ChildProcess } from 'node:child_process';

// The same helpers npm start and npm test use.
export { freePort } from '../../../../scripts/lib/net.mjs';
export { waitForHttp } from '../../../../scripts/lib/wait-http.mjs';

export const ROOT = new URL('../../../../', import.meta.url).pathname;

export interface Child {
  proc: ChildProcess;
  /** Everything it printed so far (stdout + stderr), for assertions and failure reports. */
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `node <args>` from the repo root and resolves once `ready(output)` is true. */
export async function startNode(name: string, args: string[], env: NodeJS.ProcessEnv, ready: (out: string) => boolean, timeoutMs = 60_000): Promise<Child> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const append = (b: Buffer) => {
    out += b.toString();
    if (process.env.E2E_VERBOSE) process.stderr.write(`[${name}] ${b}`);
  };
  proc.stdout!.on('data', append);
  proc.stderr!.on('data', append);
  const child: Child = {
    proc,
    output: () => out,
    stop: () => new Promise<void>((done) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return done();
      const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => {
        clearTimeout(kill);
        done();
      });
      proc.kill('SIGTERM');
    }),
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${out.slice(-3000)}`)), timeoutMs);
    const check = () => {
      if (ready(out)) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        proc.stderr!.off('data', check);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${out.slice(-3000)}`));
    });
  });
  return child;
}
