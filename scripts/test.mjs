#!/usr/bin/env node
// `npm test`: installs what is missing, starts a private Postgres and Redis for the run, then runs
// typecheck, lint and every workspace's tests, and stops what it started. Nothing is left running.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureInstalled } from './lib/ensure-installed.mjs';
import { SKIPPED_FILE } from './lib/skip-reporter.mjs';
import { aptHasCandidate, aptLockTimeoutSeconds, ensureCommand, which } from './lib/system-packages.mjs';

const root = new URL('..', import.meta.url).pathname;
const say = (m) => console.log(`[test] ${m}`);
const WORKSPACES = ['prisma', 'core', 'simulator', 'api', 'jobs', 'web', 'deploy', 'loadtests'];
const REPORT = '.vitest-report.json';
const SKIP_REPORTER = join(root, 'scripts/lib/skip-reporter.mjs');

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

try {
  aptLockTimeoutSeconds(); // a bad value fails now, not when a package turns out to be missing
} catch (err) {
  console.error(`[test] ${err.message}`);
  process.exit(1);
}
ensureInstalled({ log: say });
// Browser tests drive Debian's Chromium; the alert rules are checked by Debian's promtool and prometheus.
const chromium = await ensureCommand('chromium', 'chromium', { log: say });
const promtool = await ensureCommand('promtool', 'prometheus', { log: say });
// The renderers' cross-checks use helm and kubectl where they exist: Debian has no helm package, and its
// kubectl (kubernetes-client 1.20) embeds a kustomize too old for the overlays, so each is installed only
// when apt offers a package of that very name. What is missing is named in the summary.
const unavailable = [];
for (const [command, envVar] of [['helm', 'HELM_PATH'], ['kubectl', 'KUBECTL_PATH']]) {
  if (process.env[envVar] || which(command)) continue;
  if (process.getuid?.() === 0 && aptHasCandidate(command)) {
    await ensureCommand(command, command, { log: say });
  } else {
    unavailable.push(`${command} (${process.getuid?.() === 0 ? `Debian has no ${command} package` : 'npm test installs packages only as root'}; set ${envVar} to use your own)`);
  }
}
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
  for (const ws of WORKSPACES) for (const f of [REPORT, SKIPPED_FILE]) rmSync(join(root, ws, f), { force: true });

  const checks = (await run('npx', ['turbo', 'run', 'typecheck', '--continue', '--output-logs=errors-only'], env))
    || (await run('npx', ['tsc', '--noEmit', '-p', 'scripts'], env))
    || (await run('npx', ['eslint', '.'], env));
  if (checks !== 0) failed = true;
  const tests = await run('npx', ['turbo', 'run', 'test', '--concurrency=1', '--continue', '--', '--reporter=default', '--reporter=json', `--outputFile.json=${REPORT}`, `--reporter=${SKIP_REPORTER}`], env);
  if (tests !== 0) failed = true;

  let passed = 0, failures = 0, skipped = 0;
  const skippedTests = [];
  for (const ws of WORKSPACES) {
    const file = join(root, ws, REPORT);
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failures += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    const skips = join(root, ws, SKIPPED_FILE);
    if (existsSync(skips)) skippedTests.push(...JSON.parse(readFileSync(skips, 'utf8')));
  }
  if (checks !== 0) say('typecheck or lint failed (see above)');
  if (tests !== 0 && failures === 0) say('a test run failed without a failing test (an unhandled error or a crashed worker; see above)');
  if (passed === 0) {
    say('no test ran');
    failed = true;
  }
  console.log(`${passed} passed, ${failures} failed, ${skipped} skipped`);
  for (const { test, reason } of skippedTests) console.log(`  skipped: ${test} (${reason ?? 'no reason given'})`);
  if (unavailable.length) console.log(`  not available on this machine: ${unavailable.join('; ')}`);
} catch (err) {
  console.error(err);
  failed = true;
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  rmSync(pgDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
