import { spawn, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall, postgresBinDirs, which } from './system-packages.mjs';
import { freePort, waitForPort } from './net.mjs';

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
 * Starts a private PostgreSQL server on a free loopback port with its data in `dir` (created by initdb
 * when empty). Installs Debian's postgresql package when the binaries are missing and we are root.
 * @returns {{ url: string, adminUrl: (db: string) => string, port: number, stop: () => Promise<void> }}
 */
export async function startPostgres({ dir, log = () => {}, database = 'cic', fsync = true }) {
  let bins = findBinaries();
  if (!bins) {
    log('PostgreSQL server binaries not found: installing Debian package postgresql');
    aptInstall(['postgresql'], 'PostgreSQL is needed when DATABASE_URL is unset');
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
  const port = await freePort();
  const args = ['-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'];
  if (!fsync) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const child = spawn(bins.postgres, args, { ...spawnOpts, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  try {
    await waitForPort(port, { child, timeoutMs: 30_000 });
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`PostgreSQL did not start: ${err.message}\n${stderr}`);
  }
  const adminUrl = (db) => `postgresql://postgres@127.0.0.1:${port}/${db}`;
  const pg = (await import('pg')).default;
  // The port accepts connections a moment before the server takes queries: retry with a fresh client
  // (a pg.Client cannot connect twice).
  let client;
  for (let i = 0; ; i++) {
    client = new pg.Client({ connectionString: adminUrl('postgres') });
    try { await client.connect(); break; } catch (err) {
      await client.end().catch(() => {});
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (!rowCount) await client.query(`CREATE DATABASE "${database}"`);
  await client.end();
  return {
    port,
    url: adminUrl(database),
    adminUrl,
    pid: child.pid,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGINT'); // "fast" shutdown: ends sessions, writes a checkpoint
    }),
  };
}
