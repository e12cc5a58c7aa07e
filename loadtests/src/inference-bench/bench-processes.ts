import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../../scripts/lib/net.mjs';
import { waitForHttp } from '../../../scripts/lib/wait-http.mjs';

const repoRoot = resolve(import.meta.dirname, '../../..');

export interface BenchChild {
  url: string;
  stop(): Promise<void>;
}

function launch(entry: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => { tail = (tail + d.toString()).slice(-2000); });
  child.once('exit', (code) => { if (code) console.error(`${entry} exited with ${code}\n${tail}`); });
  return child;
}

const stopper = (child: ChildProcess) => (): Promise<void> =>
  new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
  });

/** The simulator CLI in its own process; resolves with the URL from its `listening` line. */
export const spawnSimulator = (args: string[]): Promise<BenchChild> => spawnListening('api/src/simulator/main.ts', ['--port', '0', ...args]);

/** The bare pass-through proxy (the reference point) in its own process, in front of `upstream`. */
export const spawnBareProxy = (upstream: string): Promise<BenchChild> => spawnListening('loadtests/src/inference-bench/bare-proxy.ts', [upstream]);

async function spawnListening(entry: string, args: string[]): Promise<BenchChild> {
  const child = launch(entry, args, {});
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${entry} did not start`)), 20_000);
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
  return { url, stop: stopper(child) };
}

/**
 * The API server (api/src/main.ts) in its own process, on a free loopback port. `BENCH_API_NODE_ARGS`
 * adds Node flags (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the proxy under load).
 */
export async function spawnApi(env: Record<string, string>): Promise<BenchChild> {
  const port = await freePort();
  const nodeArgs = process.env.BENCH_API_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = launch('api/src/main.ts', [], { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env }, nodeArgs);
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, fail) => child.once('exit', (code) => fail(new Error(`the API exited with ${code} before it was ready`))));
  await Promise.race([waitForHttp(`${url}/healthz`, { timeoutMs: 30_000 }), exited]);
  return { url, stop: stopper(child) };
}
