import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, postJson, startSim } from './inference-fixture.ts';

/*
 * Issue 13, item 9: the API entry point (src/main.ts) as a real process, stopped by signals as an
 * orchestrator stops it. On SIGTERM it stops being ready and lets in-flight streams finish within
 * SHUTDOWN_GRACE_SECONDS (each recorded once); a second SIGTERM does not cut the drain short, a third
 * exits at once. (One process: starting the API under tsx takes seconds on a loaded machine. The
 * in-process tests cover the end of the grace: shutdown-grace.test.ts.)
 */

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
let world: InferenceWorld;
let sim: Simulator;
let key: string;
let spoolDir: string;
const children: ChildProcess[] = [];

interface RunningApi {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  logs: { msg?: string; signal?: string }[];
}

/** Starts src/main.ts with this world's database, Redis and prefixes; resolves once it listens. */
async function startApiProcess(): Promise<RunningApi> {
  const env = {
    ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: world.db.url, REDIS_URL: world.redis.url,
    INFERENCE_REDIS_PREFIX: world.redis.prefix, REDIS_CHANNEL_PREFIX: world.redis.prefix, SHUTDOWN_GRACE_SECONDS: '40', USAGE_SPOOL_DIR: spoolDir,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs: RunningApi['logs'] = [];
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; url?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'api listening' && entry.url) resolve(entry.url);
    });
    void exited.then((code) => reject(new Error(`api exited early (${code})`)));
  });
  return { child, url, exited, logs };
}

/** Opens a stream of `tokens` chunks (30 ms apart) and waits for its first bytes. */
async function openStream(api: RunningApi, requestId: string, tokens: number) {
  const res = await postJson(`${api.url}/v1/chat/completions`, {
    model: MODEL, stream: true, max_tokens: tokens, messages: [{ role: 'user', content: 'story '.repeat(tokens) }],
  }, key, { 'x-request-id': requestId });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value, { stream: true });
  const rest = (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { rest };
}

/** /readyz's status, or 'refused' when the listener is already closed. */
const readiness = (api: RunningApi) => fetch(`${api.url}/readyz`).then((r) => r.status, () => 'refused' as const);

beforeAll(async () => {
  world = await createInferenceWorld();
  key = (await world.createKey()).secret;
  spoolDir = await mkdtemp(join(tmpdir(), 'cic-shutdown-spool-'));
  // The echo model answers with the prompt, one token per 30 ms.
  sim = await startSim({ itlMs: 30, itlSpreadMs: 0 });
  await world.addNode(sim.url);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await world?.close();
  await sim?.close();
  if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
});

describe('api process shutdown', () => {
  it('on SIGTERM turns unready and drains: a second SIGTERM does not cut a stream short, a third exits at once', async () => {
    const api = await startApiProcess();
    expect(await readiness(api)).toBe(200);
    const short = await openStream(api, 'req-drained', 60); // about 2 s of tokens
    const long = await openStream(api, 'req-forced', 1_000); // 30 s: longer than the test, shorter than the grace
    api.child.kill('SIGTERM');
    // Unready at once: /readyz answers 503 while the server still accepts, then the listener is closed.
    await world.eventually(async () => (await readiness(api)) !== 200);
    expect([503, 'refused']).toContain(await readiness(api));
    api.child.kill('SIGTERM');
    await world.eventually(() => api.logs.some((l) => l.msg?.startsWith('already shutting down')));

    // The short stream ends as it would have without the signals, and is metered while the drain goes on.
    const text = await short.rest;
    expect(text).toContain('data: [DONE]');
    expect(text).not.toContain('server_shutdown');
    await world.eventually(async () => (await world.prisma.usageRecord.count({ where: { requestId: 'req-drained' } })) > 0);
    expect(api.child.exitCode).toBeNull(); // still draining the long one

    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(1);
    expect(api.logs.some((l) => l.msg === 'api stopped')).toBe(false);
    expect(await long.rest).not.toContain('[DONE]');
    // The process is gone: nothing more can be written, so this count is final.
    const records = await world.prisma.usageRecord.findMany({ where: { requestId: 'req-drained' } });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 200, outcome: 'SUCCESS', completionTokens: 60, errorCode: null });
  });
});
