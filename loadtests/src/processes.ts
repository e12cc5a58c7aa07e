import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../scripts/lib/net.mjs';
import { waitForHttp } from '../../scripts/lib/wait-http.mjs';

export const repoRoot = resolve(import.meta.dirname, '../..');

/** A child Node process running a TypeScript entry file under tsx. */
export interface Child {
  name: string;
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `entry` (relative to the repo root) under tsx; its stderr tail is printed if it fails. */
export function spawnTs(name: string, entry: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Child {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-2000);
  });
  child.once('exit', (code, signal) => {
    if (code) console.error(`[loadtests] ${name} exited with ${code ?? signal}\n${tail}`);
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

/** Starts a process that prints `{"event":"listening","url":…}` (the simulator, the bare proxy). */
export async function spawnListening(name: string, entry: string, args: string[], nodeArgs: string[] = []): Promise<Child & { url: string }> {
  const child = spawnTs(name, entry, args, {}, nodeArgs);
  const lines = createInterface({ input: child.process.stdout! });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start`)), 20_000);
    child.process.once('exit', () => fail(new Error(`${name} exited before listening`)));
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string };
        if (msg.event === 'listening' && msg.url) {
          clearTimeout(timer);
          ok(msg.url);
        }
      } catch {
        // Not a JSON line.
      }
    });
  });
  return { ...child, url };
}

/** The vLLM simulator CLI on a free port. */
export const spawnSimulator = (name: string, args: string[]) => spawnListening(name, 'simulator/bin/cic-vllm-sim.mjs', ['--port', '0', ...args]);

/**
 * The API server (api/src/main.ts, production mode) on a free loopback port, resolved once /readyz is 200.
 * `BENCH_API_NODE_ARGS` adds Node flags (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile under load).
 * `port` restarts an instance where a balancer already sends its traffic.
 */
export async function spawnApi(name: string, env: Record<string, string>, extraNodeArgs: string[] = [], port?: number): Promise<Child & { url: string }> {
  port ??= await freePort();
  const nodeArgs = [...extraNodeArgs, ...(process.env.BENCH_API_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
  // Production mode requires a NODE_SECRET_KEY; the benchmarks' nodes (simulators without --api-key) need no key of their own.
  const nodeSecretKey = randomBytes(32).toString('hex');
  const child = spawnTs(name, 'api/src/main.ts', [], { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', NODE_ENV: 'production', NODE_SECRET_KEY: nodeSecretKey, ...env }, nodeArgs);
  child.process.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, fail) => child.process.once('exit', (code) => fail(new Error(`${name} exited with ${code} before it was ready`))));
  await Promise.race([waitForHttp(`${url}/readyz`, { timeoutMs: 60_000 }), exited]);
  return { ...child, url };
}
