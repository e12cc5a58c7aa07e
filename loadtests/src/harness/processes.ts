import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../../..');

/** A child Node process running a TypeScript entry file under tsx. */
export interface Child {
  name: string;
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnTs(name: string, entry: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-2000);
  });
  child.once('exit', (code, signal) => {
    if (code && code !== 0) console.error(`[harness] ${name} exited with ${code ?? signal}\n${tail}`);
  });
  return {
    name,
    process: child,
    stop: (signal = 'SIGTERM') =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill(signal);
      }),
  };
}

/** Starts the vLLM simulator CLI and resolves with its URL from the `listening` line. */
export async function spawnSimulator(name: string, args: string[]): Promise<Child & { url: string }> {
  const child = spawnTs(name, 'api/src/simulator/main.ts', ['--port', '0', ...args], {});
  const lines = createInterface({ input: child.process.stdout! });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 20_000);
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === 'listening' && msg.url) {
          clearTimeout(timer);
          resolveUrl(msg.url);
        }
      } catch {}
    });
    child.process.once('exit', () => reject(new Error(`${name} exited before listening`)));
  });
  lines.on('line', () => {}); // keep draining stdout so the child never blocks on a full pipe
  return { ...child, url };
}
