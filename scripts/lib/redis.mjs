import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { aptInstall, which } from './system-packages.mjs';
import { freePort, waitForPort } from './net.mjs';

/**
 * Starts a private redis-server on a free loopback port. With `dir` it keeps snapshots there
 * (npm start); without, nothing is persisted (tests). Installs Debian's redis-server when missing
 * and we are root. `noeviction` because BullMQ must never lose a job key to eviction.
 */
export async function startRedis({ dir, log = () => {} } = {}) {
  let bin = which('redis-server', ['/usr/bin', '/usr/sbin']);
  if (!bin) {
    log('redis-server not found: installing Debian package redis-server');
    aptInstall(['redis-server'], 'Redis is needed when REDIS_URL is unset');
    bin = which('redis-server', ['/usr/bin', '/usr/sbin']);
    if (!bin) throw new Error('redis-server installed but not found on PATH');
  }
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no', '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes'];
  if (dir) {
    mkdirSync(dir, { recursive: true });
    args.push('--dir', dir, '--save', '60 1', '--appendonly', 'no');
  } else {
    args.push('--save', '', '--appendonly', 'no');
  }
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  try {
    await waitForPort(port, { child, timeoutMs: 15_000 });
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start: ${err.message}\n${stderr}`);
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
