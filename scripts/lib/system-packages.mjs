import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Finds an executable on PATH, then in the extra directories given. */
export function which(name, extraDirs = []) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs];
  for (const dir of dirs) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/** The lock files apt and dpkg hold while they run (`apt-get update` the lists lock, installs the others). */
export const APT_LOCKS = ['/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock', '/var/cache/apt/archives/lock', '/var/lib/apt/lists/lock'];

/** `APT_LOCK_TIMEOUT_SECONDS` (default 300): how long installs wait for another apt or dpkg to finish. */
export function aptLockTimeoutSeconds(env = process.env) {
  const raw = env.APT_LOCK_TIMEOUT_SECONDS;
  if (raw === undefined || raw === '') return 300;
  if (!/^\d+$/.test(raw)) throw new Error(`APT_LOCK_TIMEOUT_SECONDS="${raw}": expected a whole number of seconds`);
  return Number(raw);
}

/** The `major:minor:inode` key /proc/locks uses for a file (major and minor in hex, as the kernel prints them). */
function lockKey(path) {
  const { dev, ino } = statSync(path, { bigint: true });
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${ino}`;
}

/**
 * Who holds a lock (POSIX, OFD or flock) on one of `paths`, from /proc/locks: apt and dpkg lock with fcntl,
 * so trying the lock from Node is not possible, but the kernel lists every lock. Null when none is held
 * (or on systems without /proc/locks).
 * @returns {{ path: string, pid: number, command: string } | null}
 */
export function aptLockHolder(paths = APT_LOCKS) {
  let table;
  try {
    table = readFileSync('/proc/locks', 'utf8');
  } catch {
    return null;
  }
  const byKey = new Map(paths.filter((p) => existsSync(p)).map((p) => [lockKey(p), p]));
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === '->') continue; // a process waiting for the lock, not holding it
    const [, , , , pid, key] = fields;
    const path = key && byKey.get(key);
    if (!path) continue;
    let command = 'unknown';
    try { command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { /* gone, or another pid namespace */ }
    return { path, pid: Number(pid), command };
  }
  return null;
}

/**
 * Waits (polling every `pollMs`) until no process holds an apt/dpkg lock, so an install on a fresh machine
 * waits for unattended upgrades instead of failing with "Could not get lock". Logs once while it waits.
 * Rejects at `deadline` (default: `timeoutSeconds` from now) naming the holder.
 */
export async function waitForAptLocks({ paths = APT_LOCKS, timeoutSeconds = aptLockTimeoutSeconds(), deadline = Date.now() + timeoutSeconds * 1000, log = () => {}, pollMs = 500 } = {}) {
  let said = false;
  for (;;) {
    const holder = aptLockHolder(paths);
    if (!holder) {
      if (said) log('the package lock is free');
      return;
    }
    const who = `${holder.command} (pid ${holder.pid}) holds ${holder.path}`;
    if (Date.now() >= deadline) {
      throw new Error(`another package manager is still running after ${timeoutSeconds} s: ${who}; wait for it to finish or raise APT_LOCK_TIMEOUT_SECONDS`);
    }
    if (!said) {
      log(`waiting up to ${timeoutSeconds} s (APT_LOCK_TIMEOUT_SECONDS) for another package manager to finish: ${who}`);
      said = true;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

let aptUpdated = false;

/**
 * Installs Debian packages when running as root (the machines this project targets), so a fresh clone
 * needs nothing done by hand. Waits for another apt/dpkg to finish first (bounded by
 * APT_LOCK_TIMEOUT_SECONDS). Throws with a clear message otherwise.
 */
export async function aptInstall(packages, why, { log = () => {} } = {}) {
  if (process.getuid?.() !== 0) {
    throw new Error(`${why}: install ${packages.join(' ')} (e.g. sudo apt-get install -y ${packages.join(' ')}) or set the URL of a running server`);
  }
  const timeoutSeconds = aptLockTimeoutSeconds();
  const deadline = Date.now() + timeoutSeconds * 1000;
  await waitForAptLocks({ timeoutSeconds, deadline, log });
  // Another apt may take the lock between our check and apt-get's: apt-get then waits for the dpkg lock
  // itself for what is left of the time (it does not for the lists lock, hence the wait above).
  const lockWait = () => ['-o', `DPkg::Lock::Timeout=${Math.max(1, Math.ceil((deadline - Date.now()) / 1000))}`];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', [...lockWait(), 'install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let res = aptUpdated ? install() : { status: 1 };
  if (res.status !== 0) {
    await waitForAptLocks({ timeoutSeconds, deadline, log });
    execFileSync('apt-get', [...lockWait(), 'update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    aptUpdated = true;
    res = install();
  }
  if (res.status !== 0) throw new Error(`apt-get install ${packages.join(' ')} failed: ${res.stderr?.toString().trim()}`);
}

/** Whether Debian's package lists offer `pkg` (`apt-cache policy` shows a candidate). */
export function aptHasCandidate(pkg) {
  const res = spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8' });
  const candidate = /Candidate:\s*(\S+)/.exec(res.stdout ?? '')?.[1];
  return res.status === 0 && !!candidate && candidate !== '(none)';
}

/** Directories where Debian puts PostgreSQL server binaries, newest major first. */
export function postgresBinDirs() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root).sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin'));
}

/** The path of `command`, installing Debian's `pkg` first when it is missing (root only; else null). */
export async function ensureCommand(command, pkg, { log = () => {}, extraDirs = [] } = {}) {
  const found = which(command, extraDirs);
  if (found || process.getuid?.() !== 0) return found;
  log(`${command} not found: installing Debian package ${pkg}`);
  await aptInstall([pkg], `${command} is needed by the tests`, { log });
  return which(command, extraDirs);
}
