// `npm start` end to end: a fresh data dir, local Postgres and Redis, migrations, bootstrap, API, workers
// and dashboard; then a restart on the same data. Slow by nature (two platform starts), so one file.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/net.mjs';

const root = resolve(import.meta.dirname, '../../..');
let dataDir: string;
let ports: { PORT: string; WEB_PORT: string; JOBS_PORT: string };

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...ports, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitForOutput(run: Running, pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = run.output().match(pattern);
    if (m) return m;
    if (run.child.exitCode !== null) throw new Error(`npm start exited (${run.child.exitCode}):\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A streamed chat completion with the official SDK: what a newcomer does with the printed key. */
async function streamChat(apiKey: string): Promise<{ text: string; usage: OpenAI.CompletionUsage | null | undefined }> {
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${ports.PORT}/v1`, apiKey, maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: 'cic/sim-echo-1',
    messages: [{ role: 'user', content: 'Hello from a fresh clone' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, usage };
}

async function stop(run: Running): Promise<number | null> {
  run.child.kill('SIGTERM');
  return run.exited;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cic-start-'));
  chmodSync(dataDir, 0o755); // the local Postgres runs as an unprivileged user and must reach its folder
  ports = { PORT: String(await freePort()), WEB_PORT: String(await freePort()), JOBS_PORT: String(await freePort()) };
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', () => {
  it('refuses a bad PORT with a message naming it', async () => {
    const run = start({ PORT: 'abc' });
    expect(await run.exited).not.toBe(0);
    expect(run.output()).toMatch(/PORT="abc": expected a port number/);
  });

  it('brings the platform up with a working key, stops everything on SIGTERM, and keeps data across restarts', async () => {
    const first = start({});
    const [, key] = await waitForOutput(first, /API key\s+(cic_\S+)\s+\(new;/);
    const api = `http://127.0.0.1:${ports.PORT}`;
    expect((await fetch(`${api}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.WEB_PORT}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.JOBS_PORT}/healthz`)).status).toBe(200);
    expect(first.output()).toContain('applied migrations: ');
    // The simulated node echoes the last user message, streamed through the proxy to the printed key.
    const reply = await streamChat(key!);
    expect(reply.text).toBe('Hello from a fresh clone');
    expect(reply.usage?.completion_tokens).toBeGreaterThan(0);
    expect(await stop(first)).toBe(0);
    expect(first.output()).toContain('[start] stopped');
    await expect(fetch(`${api}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${ports.WEB_PORT}/`)).rejects.toThrow();

    const second = start({});
    const [, sameKey] = await waitForOutput(second, /API key\s+(cic_\S+)/);
    expect(sameKey).toBe(key);
    expect(second.output()).toContain('database schema up to date');
    expect(second.output()).not.toContain('(new;');
    expect((await fetch(`${api}/readyz`)).status).toBe(200);
    expect((await streamChat(sameKey!)).text).toBe('Hello from a fresh clone');
    expect(await stop(second)).toBe(0);
  }, 300_000); // two whole-platform starts (each wait is bounded by waitForOutput), on a busy CI machine
});
