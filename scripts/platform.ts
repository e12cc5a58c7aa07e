// The body of `npm start`: local Postgres/Redis when no URLs are given, migrations, bootstrap, then the
// API, the job workers and the dashboard as child processes, supervised once the platform is up (a
// crashed child comes back on the same port). Ctrl-C / SIGTERM stops everything it started, each once
// and in order: the API, workers and dashboard drain first, then Redis and Postgres stop.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { createPrismaClient } from '@cic/db';
import { bootstrap } from '@cic/api/cli/bootstrap';
import { migrateDatabase } from '@cic/api/cli/migrate';
import { ConfigError, logLevelVar, parseEnv, portVar, urlVar } from '@cic/core/lib/env';
import { KEY_PATTERN } from '@cic/core/api-keys/key-format';
import { DEFAULT_MODELS } from '@cic/core/bootstrap/default-models';
import { startPostgres, type LocalPostgres } from './lib/postgres.mjs';
import { startRedis, type LocalRedis } from './lib/redis.mjs';
import { spawnService, stopChild } from './lib/spawn-service.mjs';
import { stopSignalHandler, watchParent } from './lib/stop-signals.ts';
import { SupervisedProcess, type Started } from './lib/supervised-process.ts';
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
  // The API's and the workers' own drain time; the launcher kills what is left this + 15 s after a stop.
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().positive('expected a positive number of seconds').default(30),
});

/** Drain and clean-up time the children get after their grace period, before the launcher kills them. */
const STOP_MARGIN_SECONDS = 15;
let stopTimeoutSeconds = 30 + STOP_MARGIN_SECONDS;
/** Stopped after `apps`: the API and the workers still write to Redis and Postgres while they drain. */
const infra: SupervisedProcess[] = [];
const apps: SupervisedProcess[] = [];
let stopping: Promise<never> | undefined;

function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    say('stopping…');
    const deadline = setTimeout(() => {
      say(`still running after ${stopTimeoutSeconds} s: killing ${running().join(', ')}`);
      kill();
    }, stopTimeoutSeconds * 1000);
    await Promise.all(apps.map((p) => p.stop()));
    await Promise.all(infra.map((p) => p.stop()));
    clearTimeout(deadline);
    say('stopped');
    process.exit(code);
  })();
  return stopping;
}

const running = () => [...apps, ...infra].filter((p) => p.running).map((p) => p.name);
const kill = () => { for (const p of [...apps, ...infra]) p.kill(); };

const onStopSignal = stopSignalHandler({
  stop: () => void shutdown(0),
  remind: () => say(`still stopping: waiting for ${running().join(', ') || 'clean-up'} to finish in-flight work (once more to kill them now)`),
  force: () => {
    say(`killing ${running().join(', ')}`);
    kill();
  },
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onStopSignal);
// Under `npm start`, npm runs us through `sh -c`, which may die of a SIGTERM without passing it on.
if (process.env.npm_lifecycle_event) {
  watchParent(() => {
    say('the process that started npm start exited');
    void shutdown(0);
  });
}

function supervised(group: SupervisedProcess[], name: string, start: () => Promise<Started>): SupervisedProcess {
  const p = new SupervisedProcess({
    name,
    start,
    say,
    onFatal: (reason) => {
      say(`${reason}: stopping the platform`);
      void shutdown(1);
    },
  });
  group.push(p);
  return p;
}

/** A Node child in its own process group (see spawnService), stopped with one SIGTERM. */
function nodeChild(args: string[], env: NodeJS.ProcessEnv): () => Promise<Started> {
  return async () => {
    const child = spawnService(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
    return { child, stop: () => stopChild(child, 'SIGTERM') };
  };
}

async function main(): Promise<void> {
  const env = parseEnv(launcherSchema);
  stopTimeoutSeconds = env.SHUTDOWN_GRACE_SECONDS + STOP_MARGIN_SECONDS;
  const dataDir = resolve(root, env.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });

  // Local servers restart on the port they first got, so the URLs the children hold stay valid.
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    let server: LocalPostgres | undefined;
    const postgres = supervised(infra, 'postgres', async () => (server = await startPostgres({ dir: join(dataDir, 'postgres'), port: server?.port, log: say })));
    await postgres.start();
    databaseUrl = server!.url;
    say(`PostgreSQL (local, data in ${env.DATA_DIR}/postgres) on port ${server!.port} (pid ${postgres.pid})`);
  }
  let redisUrl = env.REDIS_URL;
  if (!redisUrl) {
    let server: LocalRedis | undefined;
    const redis = supervised(infra, 'redis', async () => (server = await startRedis({ dir: join(dataDir, 'redis'), port: server?.port, log: say })));
    await redis.start();
    redisUrl = server!.url;
    say(`Redis (local, append-only file in ${env.DATA_DIR}/redis, fsync every second) on port ${server!.port} (pid ${redis.pid})`);
  }

  // What `npx cic migrate` and `npx cic bootstrap --demo-model` do in a deployment.
  await migrateDatabase({ databaseUrl, io: { out: say, err: say } });
  const prisma = createPrismaClient({ databaseUrl, poolSize: 2 });
  const boot = await bootstrap({ prisma, settings: { adminEmail: env.BOOTSTRAP_ADMIN_EMAIL, apiKey: env.BOOTSTRAP_API_KEY, scopes: ['inference', 'graphql'], demoModel: true } });
  await prisma.$disconnect();
  const keyFile = join(dataDir, 'bootstrap-api-key');
  if (boot.createdKey) writeFileSync(keyFile, `${boot.createdKey}\n`, { mode: 0o600 });
  const apiKey = env.BOOTSTRAP_API_KEY ?? boot.createdKey ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : null);

  ensureWebBuilt({ log: say, logFile: join(dataDir, 'logs', 'web-build.log') });

  const shared: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, HOST: env.HOST, LOG_LEVEL: env.LOG_LEVEL };
  const tsx = ['--import', 'tsx'];
  const apiUrl = `http://${env.HOST}:${env.PORT}`;
  const webUrl = `http://${env.HOST}:${env.WEB_PORT}`;
  // Dashboard sign-in: secrets shared by the API and the dashboard (generated once into DATA_DIR unless set).
  const secrets = devSecrets(join(dataDir, 'secrets.json'), process.env);
  // Node API keys are sealed with this one: the API and the workers must share it (docs/security.md#nodes-every-hop-to-a-vllm-server-is-authenticated).
  const nodeSecretKey = devSecrets(join(dataDir, 'secrets.json'), process.env, ['NODE_SECRET_KEY']);
  // The workers launch one local simulated node for the default model (same path as the launchNode mutation).
  const localNode = (process.env.LOCAL_NODE_AT_BOOT ?? 'true') === 'true';
  // A newcomer who signs up on the local dashboard gets some credit to try it, and knows whom to ask for more.
  const firstRun = { NEW_ORGANIZATION_CREDIT_USD: process.env.NEW_ORGANIZATION_CREDIT_USD ?? '5', OPERATOR_CONTACT: process.env.OPERATOR_CONTACT ?? env.BOOTSTRAP_ADMIN_EMAIL };
  // The API's usage spool (records neither Redis nor Postgres took) beside the Redis and Postgres data, not in /tmp: it survives a reboot.
  supervised(apps, 'api', nodeChild([...tsx, 'api/src/main.ts'], { ...shared, ...secrets, ...nodeSecretKey, USAGE_SPOOL_DIR: process.env.USAGE_SPOOL_DIR ?? join(dataDir, 'usage-spool'), ...firstRun, PORT: String(env.PORT), PUBLIC_WEB_URL: process.env.PUBLIC_WEB_URL ?? webUrl }));
  supervised(apps, 'jobs', nodeChild([...tsx, 'jobs/src/main.ts'], { ...shared, ...nodeSecretKey, JOBS_PORT: String(env.JOBS_PORT), LOCAL_NODE_AT_BOOT: String(localNode) }));
  supervised(apps, 'web', nodeChild(['web/build/index.js'], { ...shared, ...secrets, PORT: String(env.WEB_PORT), ORIGIN: webUrl, API_URL: apiUrl, PUBLIC_API_URL: process.env.PUBLIC_API_URL ?? apiUrl }));
  for (const app of apps) {
    await app.start();
    say(`${app.name} started (pid ${app.pid})`);
  }

  await waitForHttp(`${apiUrl}/readyz`, { timeoutMs: 60_000 });
  await waitForHttp(webUrl, { timeoutMs: 60_000 });
  if (localNode && apiKey) {
    say(`waiting for the local simulated node to serve ${DEFAULT_MODELS[0]!.name}…`);
    await waitForModel(apiUrl, apiKey, DEFAULT_MODELS[0]!.name);
  }

  // Until now a child that exits stops start-up (a configuration error shows at once); from here on,
  // crashed children are restarted.
  for (const p of [...infra, ...apps]) p.supervise();
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
  if (stopping) return; // start-up cut short by a stop: its errors are expected
  console.error(err instanceof ConfigError ? `[start] ${err.message}` : err);
  await shutdown(1);
});
