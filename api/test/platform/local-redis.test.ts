// npm start's own Redis holds usage records not yet in Postgres: it keeps an append-only file in its data
// dir, survives its own crash without losing what it acknowledged, and takes over the snapshot an older
// start left behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, waitForPort } from '../../../scripts/lib/net.mjs';
import { startRedis, type LocalRedis } from '../../../scripts/lib/redis.mjs';

const dirs: string[] = [];
const servers: LocalRedis[] = [];
const clients: Redis[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cic-redis-'));
  dirs.push(dir);
  return dir;
}

async function start(options: Parameters<typeof startRedis>[0]): Promise<{ server: LocalRedis; redis: Redis }> {
  const server = await startRedis(options);
  servers.push(server);
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  clients.push(redis);
  return { server, redis };
}

const config = async (redis: Redis, name: string) => ((await redis.config('GET', name)) as string[])[1];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("npm start's Redis", () => {
  it('keeps an append-only file fsynced every second in its data dir, and a kill -9 loses nothing it acknowledged', async () => {
    const dir = tempDir();
    const first = await start({ dir });
    expect(await config(first.redis, 'appendonly')).toBe('yes');
    expect(await config(first.redis, 'appendfsync')).toBe('everysec');
    expect(await config(first.redis, 'dir')).toBe(dir);
    await first.redis.xadd('usage', '*', 'tokens', '42');
    await first.redis.set('acknowledged', 'yes');
    // Written to the file before the reply, unless a slow fsync made Redis postpone the write (≤ 2 s):
    // wait for the buffer to drain so the test is about the restart, not the disk.
    while (!/aof_buffer_length:0\b/.test(await first.redis.info('persistence'))) await new Promise((r) => setTimeout(r, 20));
    first.redis.disconnect();
    first.server.child.kill('SIGKILL');
    await new Promise((r) => first.server.child.once('exit', r));

    const second = await start({ dir, port: first.server.port });
    expect(second.server.port).toBe(first.server.port);
    expect(await second.redis.get('acknowledged')).toBe('yes');
    expect(await second.redis.xlen('usage')).toBe(1);
  });

  it('switches the snapshot of an older start to the append-only file without losing it', async () => {
    const dir = tempDir();
    const port = await freePort();
    const old = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'no', '--save', ''], { stdio: 'ignore' });
    await waitForPort(port, { child: old });
    const writer = new Redis(port, '127.0.0.1');
    await writer.set('from-the-snapshot', 'kept');
    await writer.save();
    writer.disconnect();
    old.kill('SIGTERM');
    await new Promise((r) => old.once('exit', r));
    expect(existsSync(join(dir, 'appendonlydir'))).toBe(false);

    const upgraded = await start({ dir });
    expect(await upgraded.redis.get('from-the-snapshot')).toBe('kept');
    expect(await config(upgraded.redis, 'appendonly')).toBe('yes');
    await upgraded.redis.set('after-the-switch', 'kept too');
    upgraded.redis.disconnect();
    await upgraded.server.stop();

    // Started again: AOF from the start, and both keys come back from it.
    const again = await start({ dir });
    expect(await again.redis.mget('from-the-snapshot', 'after-the-switch')).toEqual(['kept', 'kept too']);
    expect(existsSync(join(dir, 'appendonlydir'))).toBe(true);
  });

  it('persists nothing without a data dir (the test suites)', async () => {
    const { redis } = await start({});
    expect(await config(redis, 'appendonly')).toBe('no');
    expect(await config(redis, 'save')).toBe('');
  });
});
