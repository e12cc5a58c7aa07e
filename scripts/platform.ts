// The body of `npm start`: local Postgres/Redis when no URLs are given, migrations, bootstrap, then the
// API, the job workers and the dashboard as child processes. Ctrl-C / SIGTERM stops everything it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { createPrismaClient } from '@cic/db';
import { deployMigrations } from '@cic/db/migrate';
import { ConfigError, logLevelVar, parseEnv, portVar, urlVar } from '@cic/core/lib/env';
import { KEY_PATTERN } from '@cic/core/api-keys/key-format';
import { bootstrapPlatform } from '@cic/core/bootstrap/bootstrap-platform';
import { DEFAULT_MODELS } from '@cic/core/bootstrap/default-models';
import { startPostgres } from './lib/postgres.mjs';
import { startRedis } from './lib/redis.mjs';
import { waitForHttp } from './lib/wait-http.mjs';
import { ensureWebBuilt } from './lib/web-build.mjs';
import { devSecrets } from '../web/scripts/dev-secrets.ts';

const root = resolve(import.meta.dirname, '..');
const say = (msg: string) => console.log(`[start] ${msg}`);

const launcherSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: portVar(4000),
  WEB_PORT: portVar(3000),
  JOBS_PORT: portVar(4001),
  DATABASE_URL: urlVar(['postgres', 'postgresql']).optional(),
  REDIS_URL: urlVar(['redis', 'rediss']).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  BOOTSTRAP_ADMIN_EMAIL: z.string().email('expected an email address').default('admin@cic.local'),
  BOOTSTRAP_API_KEY: z.string().regex(KEY_PATTERN, 'expected a CIC key: cic_<12 letters/digits>_<32 letters/digits>').optional(),
  LOG_LEVEL: logLevelVar,
});

type Stop = () => Promise<void>;
const stops: Stop[] = [];
const children: ChildProcess[] = [];
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping…');
    await Promise.all(children.map((c) => new Promise<void>((done) => {
      if (c.exitCode !== null || c.signalCode !== null) return done();
      c.once('exit', () => done());
      c.kill('SIGTERM');
    })));
    for (const stop of stops.reverse()) await stop().catch(() => {});
    say('stopped');
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
  child.once('exit', (code, signal) => {
    if (stopping) return;
    say(`${name} exited unexpectedly (${signal ?? `code ${code}`}): stopping the platform`);
    void shutdown(code || 1);
  });
  return child;
}

async function main(): Promise<void> {
  const env = parseEnv(launcherSchema);
  const dataDir = resolve(root, env.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });

  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    const pg = await startPostgres({ dir: join(dataDir, 'postgres'), log: say });
    stops.push(pg.stop);
    databaseUrl = pg.url;
    say(`PostgreSQL (local, data in ${env.DATA_DIR}/postgres) on port ${pg.port}`);
  }
  let redisUrl = env.REDIS_URL;
  if (!redisUrl) {
    const redis = await startRedis({ dir: join(dataDir, 'redis'), log: say });
    stops.push(redis.stop);
    redisUrl = redis.url;
    say(`Redis (local) on port ${redis.port}`);
  }

  const { applied } = await deployMigrations({ databaseUrl });
  say(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema up to date');

  const prisma = createPrismaClient({ databaseUrl, poolSize: 2 });
  const boot = await bootstrapPlatform({ prisma, adminEmail: env.BOOTSTRAP_ADMIN_EMAIL, apiKey: env.BOOTSTRAP_API_KEY, models: DEFAULT_MODELS });
  await prisma.$disconnect();
  const keyFile = join(dataDir, 'bootstrap-api-key');
  if (boot.createdKey) writeFileSync(keyFile, `${boot.createdKey}\n`, { mode: 0o600 });
  const apiKey = env.BOOTSTRAP_API_KEY ?? boot.createdKey ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : null);

  await ensureWebBuilt({ log: say });

  const shared: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, HOST: env.HOST, LOG_LEVEL: env.LOG_LEVEL };
  const tsx = ['--import', 'tsx'];
  const apiUrl = `http://${env.HOST}:${env.PORT}`;
  const webUrl = `http://${env.HOST}:${env.WEB_PORT}`;
  // Dashboard sign-in: secrets shared by the API and the dashboard (generated once into DATA_DIR unless set).
  const secrets = devSecrets(join(dataDir, 'secrets.json'), process.env);
  startChild('api', [...tsx, 'api/src/main.ts'], { ...shared, ...secrets, PORT: String(env.PORT), PUBLIC_WEB_URL: process.env.PUBLIC_WEB_URL ?? webUrl });
  // The workers launch one local simulated node for the default model (same path as the launchNode mutation).
  const localNode = (process.env.LOCAL_NODE_AT_BOOT ?? 'true') === 'true';
  startChild('jobs', [...tsx, 'jobs/src/main.ts'], { ...shared, JOBS_PORT: String(env.JOBS_PORT), LOCAL_NODE_AT_BOOT: String(localNode) });
  startChild('web', ['web/build/index.js'], { ...shared, ...secrets, PORT: String(env.WEB_PORT), ORIGIN: webUrl, API_URL: apiUrl, PUBLIC_API_URL: process.env.PUBLIC_API_URL ?? apiUrl });

  await waitForHttp(`${apiUrl}/readyz`, { timeoutMs: 60_000 });
  await waitForHttp(webUrl, { timeoutMs: 60_000 });
  if (localNode && apiKey) {
    say(`waiting for the local simulated node to serve ${DEFAULT_MODELS[0]!.name}…`);
    await waitForModel(apiUrl, apiKey, DEFAULT_MODELS[0]!.name);
  }

  console.log([
    '',
    'CIC is running.',
    `  Inference API (OpenAI base URL)  ${apiUrl}/v1`,
    `  GraphQL                          ${apiUrl}/graphql`,
    `  Dashboard                        ${webUrl}`,
    `  API metrics / readiness          ${apiUrl}/metrics  ${apiUrl}/readyz`,
    `  Job workers metrics              http://${env.HOST}:${env.JOBS_PORT}/metrics`,
    `  Admin                            ${env.BOOTSTRAP_ADMIN_EMAIL} (sign-in link printed in this log unless EMAIL_SERVER is set)`,
    localNode ? `  Model (local simulated node)     ${DEFAULT_MODELS[0]!.name}` : '  Model                            (no local node: LOCAL_NODE_AT_BOOT=false)',
    apiKey
      ? `  API key                          ${apiKey}${boot.createdKey ? `  (new; saved in ${env.DATA_DIR}/bootstrap-api-key)` : ''}`
      : '  API key                          (created on the first run; set BOOTSTRAP_API_KEY to choose one)',
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n'));
}

/** Resolves once `/v1/models` lists `model`, i.e. a READY node serves it and the key is accepted. */
async function waitForModel(apiUrl: string, apiKey: string, model: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${apiUrl}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(2_000) });
      const body = (await res.json()) as { data?: { id: string }[] };
      if (body.data?.some((m) => m.id === model)) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no node served ${model} within ${timeoutMs / 1000} s; see the jobs log above`);
}

main().catch(async (err: unknown) => {
  console.error(err instanceof ConfigError ? `[start] ${err.message}` : err);
  await shutdown(1);
});
