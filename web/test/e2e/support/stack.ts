import { randomBytes, randomUUID } from 'node:crypto';
import { createPrismaClient, type PrismaClient } from '@cic/db';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { bootstrapPlatform } from '@cic/core/bootstrap/bootstrap-platform';
import { DEFAULT_MODELS } from '@cic/core/bootstrap/default-models';
import { createSimulator } from '@cic/vllm-sim';
import { TopicBus } from '@cic/core/lib/topic-bus';
import { createRedis } from '@cic/core/lib/redis';
import { pino } from 'pino';
import { startMailbox } from './mailbox.ts';
import { startOidcIssuer } from './oidc-issuer.ts';
import { freePort, startNode, waitForHttp, type Child } from './processes.ts';

export const ADMIN_EMAIL = 'admin@cic.test';
const secret = (name: string) => `e2e-${name}-0123456789abcdefghijklmnopqrstuvwxyz`;

/**
 * The whole platform for browser tests: Postgres and Redis (test global setup), the API and the job
 * workers as child processes, the built dashboard (`node web/build/index.js`), a local SMTP server
 * for magic links and a local OpenID provider standing in for Google.
 */
export interface StackOptions {
  /** Extra environment for the API (e.g. lower sign-in link limits). */
  apiEnv?: Record<string, string>;
  /** Extra environment for the dashboard (e.g. a short BROWSER_TOKEN_TTL_SECONDS). */
  webEnv?: Record<string, string>;
}

export async function startStack({ apiEnv = {}, webEnv = {} }: StackOptions = {}) {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    const db: TestDatabase = await createTestDatabase();
    stops.push(() => db.drop());
    const prisma: PrismaClient = createPrismaClient({ databaseUrl: db.url, poolSize: 2 });
    stops.push(() => prisma.$disconnect());
    const boot = await bootstrapPlatform({ prisma, adminEmail: ADMIN_EMAIL, models: DEFAULT_MODELS });

    const secrets = { AUTH_SECRET: secret('auth'), SESSION_TOKEN_SECRET: secret('session'), INTERNAL_AUTH_SECRET: secret('internal') };
    // The API opens the node keys the workers seal (the local node's): both get the same one.
    const nodeSecretKey = { NODE_SECRET_KEY: secret('node') };
    // The run's Redis is shared with every other test file: queues, rate limits, the usage stream and
    // pub/sub channels live under this stack's own prefix, so no other file's jobs reach this stack's worker.
    const redis = testRedis();
    const shared = {
      NODE_ENV: 'test', DATABASE_URL: db.url, REDIS_URL: redis.url, HOST: '127.0.0.1', LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'info',
      BULLMQ_PREFIX: `e2e${randomUUID().slice(0, 8)}`, INFERENCE_REDIS_PREFIX: redis.prefix, REDIS_CHANNEL_PREFIX: redis.prefix, ...secrets,
    };

    // Locked to the persisted operations: every page, action and live view the tests go through proves
    // the dashboard sends only operations that `npm run persisted-operations` registered.
    const api: Child = await startNode('api', ['--import', 'tsx', 'api/src/main.ts'], {
      ...shared, ...nodeSecretKey, PORT: '0', SHUTDOWN_GRACE_SECONDS: '2', GRAPHQL_ALLOW_ARBITRARY_OPERATIONS: 'false', ...apiEnv,
    }, (o) => o.includes('api listening'));
    stops.push(api.stop);
    const apiUrl = /"url":"(http:\/\/[^"]+)"[^\n]*api listening/.exec(api.output())?.[1];
    if (!apiUrl) throw new Error(`could not read the API's address:\n${api.output()}`);

    const jobs = await startNode('jobs', ['--import', 'tsx', 'jobs/src/main.ts'], { ...shared, ...nodeSecretKey, JOBS_PORT: '0', API_URL: apiUrl, SHUTDOWN_GRACE_SECONDS: '2' }, (o) => /listening|started|ready/i.test(o));
    stops.push(jobs.stop);

    const mailbox = await startMailbox();
    stops.push(mailbox.close);
    const webPort = await freePort();
    const webUrl = `http://127.0.0.1:${webPort}`;
    const oidc = await startOidcIssuer({ clientId: 'cic-dashboard', clientSecret: secret('oidc'), redirectUri: `${webUrl}/auth/callback/oidc` });
    stops.push(oidc.close);

    const web = await startNode('web', ['web/build/index.js'], {
      ...shared,
      PORT: String(webPort),
      ORIGIN: webUrl,
      API_URL: apiUrl,
      PUBLIC_API_URL: apiUrl,
      EMAIL_SERVER: mailbox.url,
      EMAIL_FROM: 'CIC <no-reply@cic.test>',
      AUTH_OIDC_ISSUER: oidc.issuer,
      AUTH_OIDC_ID: 'cic-dashboard',
      AUTH_OIDC_SECRET: secret('oidc'),
      AUTH_OIDC_NAME: 'Test OIDC',
      ...webEnv,
    }, (o) => o.includes('Listening on'));
    stops.push(web.stop);
    await waitForHttp(`${webUrl}/signin`, { timeoutMs: 60_000 });

    return { prisma, apiUrl, webUrl, mailbox, boot, secrets, redisUrl: shared.REDIS_URL, channelPrefix: shared.REDIS_CHANNEL_PREFIX, children: { api, jobs, web }, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/**
 * A session cookie value for `userId`, made the way Auth.js makes one at sign-in: a random token
 * stored through the API's internal auth route (which keeps only its digest).
 */
export async function createSessionCookie(stack: Stack, userId: string, expires: Date): Promise<string> {
  const sessionToken = randomBytes(32).toString('hex');
  const res = await fetch(`${stack.apiUrl}/internal/auth/createSession`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cic-internal-auth': stack.secrets.INTERNAL_AUTH_SECRET },
    body: JSON.stringify({ sessionToken, userId, expires }),
  });
  if (!res.ok) throw new Error(`createSession answered ${res.status}: ${await res.text()}`);
  return sessionToken;
}

/**
 * A simulated vLLM node registered directly as READY (provider STATIC), so tests of keys and usage
 * do not depend on the launch pipeline. The API's node registry picks it up via nodeStatusChanged.
 */
export async function registerStaticNode(stack: Stack, model = DEFAULT_MODELS[0]!.name) {
  const sim = await createSimulator({ model, host: '127.0.0.1', port: 0, ttftMs: 5, itlMs: 1, outputTokens: 8 });
  const served = await stack.prisma.servedModel.findUniqueOrThrow({ where: { name: model } });
  const node = await stack.prisma.node.create({
    data: { provider: 'STATIC', clusterName: `e2e-static-${Date.now()}`, modelId: served.id, endpointUrl: sim.url, status: 'READY', readyAt: new Date() },
  });
  const log = pino({ level: 'silent' });
  const redis = createRedis(stack.redisUrl, log);
  const bus = new TopicBus({ redis, prefix: stack.channelPrefix, log });
  await bus.publish('nodeStatusChanged', { nodeId: node.id, modelName: model, status: 'READY', previousStatus: null, reason: 'registered by the e2e test', at: new Date().toISOString() });
  await bus.close();
  await redis.quit();
  return { node, close: () => sim.close() };
}
