import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
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

let aptUpdated = false;

/**
 * Installs Debian packages when running as root (the machines this project targets), so a fresh clone
 * needs nothing done by hand. Throws with a clear message otherwise.
 */
export function aptInstall(packages, why) {
  if (process.getuid?.() !== 0) {
    throw new Error(`${why}: install ${packages.join(' ')} (e.g. sudo apt-get install -y ${packages.join(' ')}) or set the URL of a running server`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let res = aptUpdated ? install() : { status: 1 };
  if (res.status !== 0) {
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    aptUpdated = true;
    res = install();
  }
  if (res.status !== 0) throw new Error(`apt-get install ${packages.join(' ')} failed: ${res.stderr?.toString().trim()}`);
}

/** Directories where Debian puts PostgreSQL server binaries, newest major first. */
export function postgresBinDirs() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root).sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin'));
}

/** The path of `command`, installing Debian's `pkg` first when it is missing (root only; else null). */
export function ensureCommand(command, pkg, { log = () => {}, extraDirs = [] } = {}) {
  const found = which(command, extraDirs);
  if (found || process.getuid?.() !== 0) return found;
  log(`${command} not found: installing Debian package ${pkg}`);
  aptInstall([pkg], `${command} is needed by the tests`);
  return which(command, extraDirs);
}
