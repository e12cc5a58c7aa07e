import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, which } from './system-packages.mjs';
import { freePort, waitForPort } from './net.mjs';
import { spawnService, stopChild } from './spawn-service.mjs';

/**
 * Starts a private redis-server on a loopback port (`port`, else a free one). With `dir` its data is
 * durable there (npm start): an append-only file fsynced every second, so a crash of redis-server loses
 * nothing it acknowledged and a crash of the machine at most about a second (docs/operations.md
 * "Durability"). Without `dir`, nothing is persisted (tests). Installs Debian's redis-server when missing
 * and we are root. `noeviction` because BullMQ must never lose a job key to eviction.
 */
export async function startRedis({ dir, port, log = () => {} } = {}) {
  let bin = which('redis-server', ['/usr/bin', '/usr/sbin']);
  if (!bin) {
    log('redis-server not found: installing Debian package redis-server');
    await aptInstall(['redis-server'], 'Redis is needed when REDIS_URL is unset', { log });
    bin = which('redis-server', ['/usr/bin', '/usr/sbin']);
    if (!bin) throw new Error('redis-server installed but not found on PATH');
  }
  port ??= await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes', '--save', ''];
  // Data of an older npm start is a snapshot (dump.rdb): Redis would ignore it once AOF is on, so that
  // start loads the snapshot and switches to AOF at run time (CONFIG SET appendonly yes rewrites it).
  let fromSnapshot = false;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    fromSnapshot = existsSync(join(dir, 'dump.rdb')) && !existsSync(join(dir, 'appendonlydir'));
    args.push('--dir', dir, '--dbfilename', 'dump.rdb', '--appendonly', fromSnapshot ? 'no' : 'yes', '--appendfsync', 'everysec');
  } else {
    args.push('--appendonly', 'no');
  }
  const child = spawnService(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  try {
    await waitForPort(port, { child, timeoutMs: 15_000 });
    if (fromSnapshot) await switchToAof(port, log);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start: ${err.message}\n${stderr}`);
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    child,
    // SIGTERM: redis-server fsyncs the append-only file and exits.
    stop: () => stopChild(child, 'SIGTERM'),
  };
}

/** Turns AOF on in a running server and waits until the rewrite that writes the whole dataset is done. */
async function switchToAof(port, log) {
  log('Redis data is a snapshot from an older start: switching it to the append-only file');
  const { Redis } = await import('ioredis');
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 3 });
  try {
    await redis.connect();
    await redis.config('SET', 'appendonly', 'yes');
    for (;;) {
      const info = await redis.info('persistence');
      if (/aof_enabled:1/.test(info) && /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) {
        if (!/aof_last_bgrewrite_status:ok/.test(info)) throw new Error(`the AOF rewrite failed:\n${info}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    redis.disconnect();
  }
}
