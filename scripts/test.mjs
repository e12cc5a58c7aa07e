#!/usr/bin/env node
// `npm test`: installs what is missing, starts a private Postgres and Redis for the run, then runs
// typecheck, lint and every workspace's tests, and stops what it started. Nothing is left running.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureInstalled } from './lib/ensure-installed.mjs';

const root = new URL('..', import.meta.url).pathname;
const say = (m) => console.log(`[test] ${m}`);
const WORKSPACES = ['prisma', 'core', 'simulator', 'api', 'jobs', 'web', 'deploy', 'loadtests'];
const REPORT = '.vitest-report.json';

function run(cmd, args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: 'inherit' });
    const forward = (s) => child.kill(s);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

ensureInstalled({ log: say });
const { ensureCommand } = await import('./lib/system-packages.mjs');
// Browser tests drive Debian's Chromium; the alert rules are checked by Debian's promtool.
const chromium = ensureCommand('chromium', 'chromium', { log: say });
const promtool = ensureCommand('promtool', 'prometheus', { log: say });
const { startPostgres } = await import('./lib/postgres.mjs');
const { startRedis } = await import('./lib/redis.mjs');

const pgDir = mkdtempSync(join(tmpdir(), 'cic-test-pg-'));
const stops = [];
let failed = false;
try {
  const postgres = await startPostgres({ dir: pgDir, fsync: false, log: say });
  stops.push(postgres.stop);
  const redis = await startRedis({ log: say });
  stops.push(redis.stop);
  say(`PostgreSQL on ${postgres.port}, Redis on ${redis.port}`);

  const env = {
    ...process.env,
    TURBO_TELEMETRY_DISABLED: '1',
    TEST_DATABASE_ADMIN_URL: postgres.adminUrl('postgres'),
    TEST_REDIS_URL: redis.url,
    ...(chromium ? { CHROMIUM_PATH: chromium } : {}),
    ...(promtool ? { PROMTOOL_PATH: promtool } : {}),
  };
  for (const ws of WORKSPACES) rmSync(join(root, ws, REPORT), { force: true });

  const checks = (await run('npx', ['turbo', 'run', 'typecheck', '--continue', '--output-logs=errors-only'], env))
    || (await run('npx', ['tsc', '--noEmit', '-p', 'scripts'], env))
    || (await run('npx', ['eslint', '.'], env));
  if (checks !== 0) failed = true;
  const tests = await run('npx', ['turbo', 'run', 'test', '--concurrency=1', '--continue', '--', '--reporter=default', '--reporter=json', `--outputFile.json=${REPORT}`], env);
  if (tests !== 0) failed = true;

  let passed = 0, failures = 0, skipped = 0;
  for (const ws of WORKSPACES) {
    const file = join(root, ws, REPORT);
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failures += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  }
  if (checks !== 0) say('typecheck or lint failed (see above)');
  if (tests !== 0 && failures === 0) say('a test run failed without a failing test (an unhandled error or a crashed worker; see above)');
  if (passed === 0) {
    say('no test ran');
    failed = true;
  }
  console.log(`${passed} passed, ${failures} failed, ${skipped} skipped`);
} catch (err) {
  console.error(err);
  failed = true;
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  rmSync(pgDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
