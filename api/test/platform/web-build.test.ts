// `npm start` builds the dashboard when its build is stale; the build's own chatter (Svelte's circular
// dependency notices, plugin timing tables) goes to a log file, and the terminal shows only the
// launcher's lines. A failed build still says why, with the log's last lines.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'cic-web-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `runLogged` in a child process whose own terminal output we capture, as the launcher's. */
function launcherRunning(script: string, logFile: string) {
  const code = `
    import { runLogged } from ${JSON.stringify(join(root, 'scripts/lib/web-build.mjs'))};
    console.log('[start] before');
    try {
      runLogged({ command: process.execPath, args: ['-e', ${JSON.stringify(script)}], cwd: ${JSON.stringify(dir)}, logFile: ${JSON.stringify(logFile)} });
      console.log('[start] after');
    } catch (err) { console.log('[start] ' + err.message); process.exitCode = 3; }`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
}

describe('the dashboard build in npm start', () => {
  it('keeps the build output out of the terminal and in the log file', () => {
    const logFile = join(dir, 'logs', 'ok.log');
    const run = launcherRunning("console.log('Circular dependency: a -> b -> a'); console.error('vite plugin timings: 12 ms')", logFile);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('[start] before\n[start] after\n');
    expect(run.stderr).toBe('');
    expect(readFileSync(logFile, 'utf8')).toBe('Circular dependency: a -> b -> a\nvite plugin timings: 12 ms\n');
  });

  it('a failed build says so with the last lines of its log', () => {
    const logFile = join(dir, 'logs', 'failed.log');
    const run = launcherRunning("for (let i = 1; i <= 40; i++) console.error('line ' + i); process.exit(2)", logFile);
    expect(run.status).toBe(3);
    expect(run.stdout).toContain(`failed (exit code 2); the last lines of ${logFile}:`);
    expect(run.stdout).toContain('line 40');
    expect(run.stdout).toContain('line 11');
    expect(run.stdout).not.toContain('line 10\n');
    expect(run.stdout).not.toContain('[start] after');
  });
});
