import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const web = new URL('../../web', import.meta.url).pathname;

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newest(join(path, e))));
}

/** Builds the dashboard (adapter-node) when its build is missing or older than its sources. */
export function ensureWebBuilt({ log }) {
  const out = join(web, 'build/index.js');
  const sources = ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'].map((p) => join(web, p)).filter(existsSync);
  if (existsSync(out) && statSync(out).mtimeMs >= Math.max(...sources.map(newest))) return;
  log('building the dashboard…');
  execFileSync('npm', ['run', 'build', '-w', '@cic/web', '--silent'], { cwd: join(web, '..'), stdio: ['ignore', 'ignore', 'inherit'] });
}
