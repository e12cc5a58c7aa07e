// `npm start` end to end, started through npm as a newcomer does: a fresh data dir, local Postgres and
// Redis, migrations, bootstrap, API, workers and dashboard; children killed with -9 come back on their
// ports; SIGTERM to npm stops every process of the tree. Then a restart on the same data, stopped the way
// a terminal's Ctrl-C does it (SIGINT to the whole process group). Slow by nature (two platform starts),
// so each start carries several checks; the second test uses the data the first one left.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/net.mjs';
import { waitForHttp } from '../../../scripts/lib/wait-http.mjs';

const root = resolve(import.meta.dirname, '../../..');
let dataDir: string;
let ports: { PORT: string; WEB_PORT: string; JOBS_PORT: string };
const api = () => `http://127.0.0.1:${ports.PORT}`;
const started: ChildProcess[] = [];

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** npm exited and so did every process that shares its output (the launcher, API, workers, dashboard). */
  finished: Promise<number | null>;
}

/** `npm start` (or another command) in a process group of its own, as a shell runs a foreground job. */
function start(env: Record<string, string>, command: string[] = ['npm', 'start']): Running {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...ports, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const closed = [child.stdout!, child.stderr!].map((s) => new Promise((r) => s.once('close', r)));
  const finished = Promise.all([exited, ...closed]).then(([code]) => code as number | null);
  return { child, output: () => out, exited, finished };
}

async function waitForOutput(run: Running, pattern: RegExp, timeoutMs = 180_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = run.output().match(pattern);
    if (m) return m;
    if (run.child.exitCode !== null) throw new Error(`npm start exited (${run.child.exitCode}):\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pidOf = async (run: Running, pattern: RegExp) => Number((await waitForOutput(run, pattern))[1]);

/** A streamed chat completion with the official SDK: what a newcomer does with the printed key. */
async function streamChat(apiKey: string): Promise<{ text: string; usage: OpenAI.CompletionUsage | null | undefined }> {
  const client = new OpenAI({ baseURL: `${api()}/v1`, apiKey, maxRetries: 0 });
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

/** Every process below `pid` right now (detached children included: they keep their parent). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch { /* exited meanwhile */ }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      queue.push(c);
      found.push(c);
    }
  }
  return found;
}

/** Running (a zombie awaiting its reaper does not count). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

const listening = (port: number) => new Promise<boolean>((r) => {
  const s = connect({ port, host: '127.0.0.1' }, () => { s.destroy(); r(true); });
  s.on('error', () => r(false));
});

/** `"msg":"shutting down"` lines a service logged: each got exactly as many stop signals. */
const shutdowns = (run: Running, service: string) =>
  run.output().split('\n').filter((l) => l.includes(`"service":"${service}"`) && l.includes('"msg":"shutting down"')).length;

/** What a stopped platform must leave behind: nothing listening, no process of the tree. */
async function expectAllGone(tree: number[], platformPorts: number[]): Promise<void> {
  expect(tree.filter(isRunning)).toEqual([]);
  for (const port of platformPorts) expect(await listening(port), `port ${port}`).toBe(false);
}

const localPorts = (run: Running) => ({
  postgres: Number(run.output().match(/PostgreSQL \(local.*\) on port (\d+)/)![1]),
  redis: Number(run.output().match(/Redis \(local.*\) on port (\d+)/)![1]),
});

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cic-start-'));
  chmodSync(dataDir, 0o755); // the local Postgres runs as an unprivileged user and must reach its folder
  ports = { PORT: String(await freePort()), WEB_PORT: String(await freePort()), JOBS_PORT: String(await freePort()) };
});
afterAll(() => {
  for (const c of started) if (c.exitCode === null) try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('refuses a bad PORT or APT_LOCK_TIMEOUT_SECONDS with a message naming it', async () => {
    const badPort = start({ PORT: 'abc' }, [process.execPath, 'scripts/start.mjs']);
    expect(await badPort.exited).not.toBe(0);
    expect(badPort.output()).toMatch(/PORT="abc": expected a port number/);
    const badWait = start({ APT_LOCK_TIMEOUT_SECONDS: 'soon' }, [process.execPath, 'scripts/start.mjs']);
    expect(await badWait.exited).not.toBe(0);
    expect(badWait.output()).toContain('APT_LOCK_TIMEOUT_SECONDS="soon": expected a whole number of seconds');
  });

  it('brings the platform up with a working key, restarts a crashed API and Redis on their ports, and SIGTERM to npm stops every process', async () => {
    const run = start({});
    const [, key] = await waitForOutput(run, /API key\s+(cic_\S+)\s+\(new;/);
    expect((await fetch(`${api()}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.WEB_PORT}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.JOBS_PORT}/healthz`)).status).toBe(200);
    expect(run.output()).toContain('applied migrations: ');
    // The dashboard build (when one was needed) keeps its chatter in DATA_DIR/logs/web-build.log.
    expect(run.output()).not.toMatch(/Circular dependency|vite v\d|transforming/);
    // The simulated node echoes the last user message, streamed through the proxy to the printed key.
    const reply = await streamChat(key!);
    expect(reply.text).toBe('Hello from a fresh clone');
    expect(reply.usage?.completion_tokens).toBeGreaterThan(0);

    // Redis keeps what it acknowledged: an append-only file in DATA_DIR, fsynced every second.
    const { postgres: pgPort, redis: redisPort } = localPorts(run);
    const redis = new Redis(redisPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    expect(await redis.config('GET', 'dir')).toEqual(['dir', join(dataDir, 'redis')]);
    redis.disconnect();

    // The API killed with -9 comes back on the printed URL and serves the printed key.
    const apiPid = await pidOf(run, /\[start\] api started \(pid (\d+)\)/);
    process.kill(apiPid, 'SIGKILL');
    const newApiPid = await pidOf(run, /\[start\] api restarted \(pid (\d+)\)/);
    expect(newApiPid).not.toBe(apiPid);
    expect(run.output()).toContain(`[start] api (pid ${apiPid}) exited unexpectedly (SIGKILL): restarting in 1 s`);
    await waitForHttp(`${api()}/readyz`, { timeoutMs: 120_000 });
    expect((await streamChat(key!)).text).toBe('Hello from a fresh clone');

    // Redis killed with -9 comes back on the same port with its data; the API carries on with it.
    const redisPid = await pidOf(run, /Redis \(local.*\) on port \d+ \(pid (\d+)\)/);
    process.kill(redisPid, 'SIGKILL');
    await waitForOutput(run, /\[start\] redis restarted \(pid \d+\)/);
    const again = new Redis(redisPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await again.connect();
    expect(await again.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    again.disconnect();
    expect((await streamChat(key!)).text).toBe('Hello from a fresh clone');

    // `kill <npm pid>`: npm passes SIGTERM on; each service is stopped once, and nothing is left.
    const tree = descendants(run.child.pid!);
    expect(tree.length).toBeGreaterThanOrEqual(7); // launcher, postgres, redis, api, jobs, web, simulator
    run.child.kill('SIGTERM');
    expect(await run.finished).toBe(0);
    expect(run.output()).toContain('[start] stopped');
    expect(shutdowns(run, 'api')).toBe(1);
    expect(shutdowns(run, 'jobs')).toBe(1);
    await expectAllGone(tree, [Number(ports.PORT), Number(ports.WEB_PORT), Number(ports.JOBS_PORT), pgPort, redisPort]);
  }, 420_000); // a whole-platform start, an API restart and a stop, on a busy CI machine

  it('restarts on the same data and key, survives a Postgres crash, and a Ctrl-C to the process group stops everything once', async () => {
    const run = start({});
    const [, key] = await waitForOutput(run, /API key\s+(cic_\S+)/);
    expect(run.output()).toContain('database schema up to date');
    expect(run.output()).not.toContain('(new;');
    expect(readFileSync(join(dataDir, 'bootstrap-api-key'), 'utf8').trim()).toBe(key);
    expect((await streamChat(key!)).text).toBe('Hello from a fresh clone');

    // Postgres killed with -9 comes back on the same port; the API reconnects.
    const { postgres: pgPort, redis: redisPort } = localPorts(run);
    const pgPid = await pidOf(run, /PostgreSQL \(local.*\) on port \d+ \(pid (\d+)\)/);
    process.kill(pgPid, 'SIGKILL');
    await waitForOutput(run, /\[start\] postgres restarted \(pid \d+\)/);
    expect(await listening(pgPort)).toBe(true);
    expect((await streamChat(key!)).text).toBe('Hello from a fresh clone');

    // Ctrl-C: the terminal signals the whole foreground group; npm passes it on too. Pressed twice.
    const tree = descendants(run.child.pid!);
    process.kill(-run.child.pid!, 'SIGINT');
    await waitForOutput(run, /\[start\] stopping…/);
    process.kill(-run.child.pid!, 'SIGINT');
    await run.finished;
    expect(run.output()).toContain('[start] stopped');
    expect(run.output()).not.toMatch(/\[start\] (still running after|killing)/);
    expect(shutdowns(run, 'api')).toBe(1);
    expect(shutdowns(run, 'jobs')).toBe(1);
    expect(run.output()).not.toContain('second signal');
    await expectAllGone(tree, [Number(ports.PORT), Number(ports.WEB_PORT), Number(ports.JOBS_PORT), pgPort, redisPort]);
  }, 420_000);
});
