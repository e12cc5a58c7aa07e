import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PrismaClient } from '@cic/db';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import { AppError } from '@cic/core/errors';
import type { PlatformSettingsValues } from '@cic/core/platform/platform-settings';
import { sendJson } from '../http/respond.ts';
import type { Router } from '../http/router.ts';
import { ADAPTER_OPS, runAdapterOp, type AdapterOp } from './adapter-ops.ts';
import { signUpDecision } from './provision-user.ts';
import type { SignInThrottle } from './sign-in-throttle.ts';

/** The header carrying the secret shared between the dashboard server and the API. */
export const INTERNAL_AUTH_HEADER = 'x-cic-internal-auth';
const MAX_BODY_BYTES = 64 * 1024;

export interface InternalAuthRouteOptions {
  prisma: PrismaClient;
  registry: Registry;
  /** INTERNAL_AUTH_SECRET; the routes answer 404 when it is unset, so nothing is exposed by default. */
  secret: string | undefined;
  /** Counts magic-link requests (the `throttleSignInLink` operation). */
  throttle: SignInThrottle;
  /** The environment's platform settings (sign-up policy, credit for new organizations) until an admin saves their own. */
  platformDefaults: PlatformSettingsValues;
}

/** The dashboard asks before Auth.js mints a magic link: who it is for and which client asked. */
const throttleInput = z.object({ email: z.string().min(1).max(320), client: z.string().min(1).max(100) });
const THROTTLE_OP = 'throttleSignInLink';
/** The dashboard asks whether an address may sign in (new accounts follow the sign-up policy). */
const signUpInput = z.object({ email: z.string().min(1).max(320) });
const SIGN_UP_OP = 'signUpDecision';

const digest = (s: string) => createHash('sha256').update(s).digest();

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw new AppError('BAD_REQUEST', 'body is not JSON');
  }
}

/**
 * POST /internal/auth/<op>: the Auth.js adapter of the dashboard, over HTTP, and the magic-link
 * throttle it consults. Only the dashboard's server knows the shared secret; the browser never talks
 * to these routes.
 */
export function registerInternalAuthRoutes(router: Router, { prisma, registry, secret, throttle, platformDefaults }: InternalAuthRouteOptions): void {
  if (!secret) return;
  const expected = digest(secret);
  const requests = new Counter({
    name: 'cic_internal_auth_requests_total',
    help: 'Auth.js adapter calls from the dashboard, by operation and outcome.',
    labelNames: ['op', 'outcome'] as const,
    registers: [registry],
  });
  const signInLinks = new Counter({
    name: 'cic_signin_link_requests_total',
    help: 'Magic sign-in links asked for, by outcome (allowed, or which limit refused it).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  router.on('POST', '/internal/auth/*', async (req, res, ctx) => {
    const op = ctx.path.slice('/internal/auth/'.length);
    const given = req.headers[INTERNAL_AUTH_HEADER];
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) {
      requests.inc({ op: 'unknown', outcome: 'unauthenticated' });
      throw new AppError('UNAUTHENTICATED', 'missing or wrong internal auth secret');
    }
    if (op === THROTTLE_OP) {
      const parsed = throttleInput.safeParse(await readJson(req));
      if (!parsed.success) throw new AppError('BAD_REQUEST', `invalid ${op} input: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
      const decision = await throttle.take(parsed.data);
      const outcome = decision.allowed ? 'allowed' : `limited_by_${decision.limitedBy}`;
      signInLinks.inc({ outcome });
      requests.inc({ op, outcome: 'ok' });
      if (!decision.allowed) ctx.log.warn({ limitedBy: decision.limitedBy, client: parsed.data.client, retryAfterSeconds: decision.retryAfterSeconds }, 'sign-in link refused: too many requests');
      sendJson(res, 200, { result: decision });
      return;
    }
    if (op === SIGN_UP_OP) {
      const parsed = signUpInput.safeParse(await readJson(req));
      if (!parsed.success) throw new AppError('BAD_REQUEST', `invalid ${op} input: email`);
      const decision = await signUpDecision(prisma, platformDefaults, parsed.data.email);
      requests.inc({ op, outcome: decision.allowed ? 'ok' : 'refused' });
      if (!decision.allowed) ctx.log.info({ reason: decision.reason }, 'sign-up refused by the platform policy');
      sendJson(res, 200, { result: decision });
      return;
    }
    if (!(ADAPTER_OPS as string[]).includes(op)) {
      requests.inc({ op: 'unknown', outcome: 'not_found' });
      throw new AppError('NOT_FOUND', `unknown adapter operation ${op}`);
    }
    try {
      const result = await runAdapterOp(prisma, platformDefaults, op as AdapterOp, await readJson(req));
      requests.inc({ op, outcome: 'ok' });
      if (op === 'createUser') ctx.log.info({ userId: (result as { id: string }).id }, 'dashboard user created');
      sendJson(res, 200, { result });
    } catch (err) {
      requests.inc({ op, outcome: 'error' });
      throw err;
    }
  });
}
