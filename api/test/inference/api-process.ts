import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { InferenceWorld } from './inference-fixture.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/**
 * The real API entry point (api/src/main.ts) as a child process of a test world, on a free loopback port,
 * so a test can kill it with SIGKILL. Resolves once it listens; the caller kills it when done.
 */
export function spawnApiProcess(world: InferenceWorld, env: Record<string, string> = {}): Promise<{ child: ChildProcess; baseURL: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: world.db.url, REDIS_URL: world.redis.url,
      INFERENCE_REDIS_PREFIX: world.redis.prefix, REDIS_CHANNEL_PREFIX: world.redis.prefix, INFERENCE_NODE_REFRESH_MS: '200', USAGE_SPOOL_DIR: world.spoolDir, ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`api exited early (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { msg?: string; url?: string };
      if (msg.msg === 'api listening' && msg.url) resolve({ child, baseURL: `${msg.url}/v1` });
    });
  });
}

/** Kills a child with SIGKILL (a crash) and waits until it is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}
