import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const mtime = (p) => (existsSync(join(root, p)) ? statSync(join(root, p)).mtimeMs : 0);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * Runs `npm ci` when node_modules is missing or older than the lockfile, and `prisma generate` when the
 * generated client is missing or older than the schema. Both are offline-safe (see README "Database").
 */
export function ensureInstalled({ log }) {
  if (mtime('node_modules/.package-lock.json') < mtime('package-lock.json')) {
    log('installing dependencies (npm ci)…');
    execFileSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  }
  if (mtime('prisma/generated/client.ts') < mtime('prisma/schema.prisma')) {
    log('generating the Prisma client…');
    execFileSync(npm, ['run', 'generate', '-w', '@cic/db', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
