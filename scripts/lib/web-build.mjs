import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const web = new URL('../../web', import.meta.url).pathname;

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newest(join(path, e))));
}

/**
 * Runs `command` with its output (both streams) in `logFile` only, so the caller's terminal shows what
 * the caller says. On failure, throws with the log's last lines.
 */
export function runLogged({ command, args, cwd, logFile, env = process.env }) {
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'w');
  let result;
  try {
    result = spawnSync(command, args, { cwd, env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  if (result.status === 0) return;
  const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
  const how = result.error ? result.error.message : result.signal ?? `exit code ${result.status}`;
  throw new Error(`${command} ${args.join(' ')} failed (${how}); the last lines of ${logFile}:\n${tail}`);
}

/**
 * Builds the dashboard (adapter-node) when its build is missing or older than its sources. The build's
 * own output (Svelte's circular-dependency notices, plugin timings) goes to `logFile`, not the terminal.
 */
export function ensureWebBuilt({ log, logFile }) {
  const out = join(web, 'build/index.js');
  const sources = ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'].map((p) => join(web, p)).filter(existsSync);
  if (existsSync(out) && statSync(out).mtimeMs >= Math.max(...sources.map(newest))) return;
  const started = Date.now();
  log(`building the dashboard (its output goes to ${logFile})…`);
  runLogged({ command: 'npm', args: ['run', 'build', '-w', '@cic/web', '--silent'], cwd: join(web, '..'), logFile });
  log(`dashboard built in ${Math.round((Date.now() - started) / 1000)} s`);
}
