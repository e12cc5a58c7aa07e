import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, postgresBinDirs, which } from './system-packages.mjs';
import { freePort, waitForPort } from './net.mjs';
import { hasExited, spawnService, stopChild } from './spawn-service.mjs';

function findBinaries() {
  const initdb = which('initdb', postgresBinDirs());
  const postgres = which('postgres', postgresBinDirs());
  return initdb && postgres ? { initdb, postgres } : null;
}

/** Postgres refuses to run as root; when we are root, run it as `nobody`. */
function runAsUser() {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'nobody']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'nobody']).toString().trim());
  return { uid, gid };
}

function chownTree(dir, { uid, gid }) {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) chownTree(p, { uid, gid });
    else chownSync(p, uid, gid);
  }
}

/**
 * Starts a private PostgreSQL server on a loopback port (`port`, else a free one) with its data in `dir`
 * (created by initdb when empty). Installs Debian's postgresql package when the binaries are missing and
 * we are root.
 * @returns {Promise<import('./postgres.d.mts').LocalPostgres>}
 */
export async function startPostgres({ dir, port, log = () => {}, database = 'cic', fsync = true }) {
  let bins = findBinaries();
  if (!bins) {
    log('PostgreSQL server binaries not found: installing Debian package postgresql');
    await aptInstall(['postgresql'], 'PostgreSQL is needed when DATABASE_URL is unset', { log });
    bins = findBinaries();
    if (!bins) throw new Error('postgresql installed but initdb/postgres not found');
  }
  const user = runAsUser();
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'run');
  mkdirSync(socketDir, { recursive: true });
  if (user) chownTree(dir, user);
  const spawnOpts = user ? { uid: user.uid, gid: user.gid } : {};
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`initialising a PostgreSQL cluster in ${dataDir}`);
    execFileSync(bins.initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'], { ...spawnOpts, stdio: 'ignore' });
  }
  port ??= await freePort();
  const args = ['-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'];
  if (!fsync) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const child = spawnService(bins.postgres, args, { ...spawnOpts, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const adminUrl = (db) => `postgresql://postgres@127.0.0.1:${port}/${db}`;
  try {
    await waitForPort(port, { child, timeoutMs: 30_000 });
    await ensureDatabase(adminUrl('postgres'), database, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`PostgreSQL did not start: ${err.message}\n${stderr}`);
  }
  return {
    port,
    url: adminUrl(database),
    adminUrl,
    pid: child.pid,
    child,
    stop: () => stopChild(child, 'SIGINT'), // "fast" shutdown: ends sessions, writes a checkpoint
  };
}

/**
 * Creates `database` unless it exists. The port accepts connections a moment before the server takes
 * queries (longer after a crash: it replays its WAL first), so connect is retried with a fresh client (a
 * pg.Client cannot connect twice) for up to 60 s.
 */
async function ensureDatabase(adminUrl, database, child) {
  const pg = (await import('pg')).default;
  const deadline = Date.now() + 60_000;
  let client;
  for (;;) {
    client = new pg.Client({ connectionString: adminUrl });
    try { await client.connect(); break; } catch (err) {
      await client.end().catch(() => {});
      if (Date.now() > deadline || hasExited(child)) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
}
