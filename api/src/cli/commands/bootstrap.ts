import { z } from 'zod';
import type { PrismaClient } from '@cic/db';
import { API_KEY_SCOPES, type ApiKeyScope } from '@cic/core/api-keys/key-action-options';
import { KEY_PATTERN } from '@cic/core/api-keys/key-format';
import { bootstrapPlatform, type BootstrapResult } from '@cic/core/bootstrap/bootstrap-platform';
import { DEFAULT_MODELS } from '@cic/core/bootstrap/default-models';
import { parseFlags, UsageError } from '../cli-io.ts';
import type { CliContext, CliEnv } from '../cli-context.ts';

export const BOOTSTRAP_USAGE = `cic bootstrap --admin-email EMAIL [--api-key KEY] [--scopes inference,graphql] [--demo-model]

  Makes EMAIL a platform admin who owns an organization (with 10 USD of credit, granted once) and an API
  key named "bootstrap". Run it on every deploy: it converges and never duplicates anything.
  --admin-email   default $BOOTSTRAP_ADMIN_EMAIL
  --api-key       ensure this exact key (cic_<12>_<32> letters/digits); default $BOOTSTRAP_API_KEY. Without
                  one, a key is created on the first run and printed once
  --scopes        the key's scopes, comma-separated (inference, graphql); default $BOOTSTRAP_API_KEY_SCOPES,
                  else inference,graphql
  --demo-model    also add the simulated model cic/sim-echo-1 (what npm start's local node serves)`;

const flagsSchema = z.object({
  adminEmail: z.email('expected an email address'),
  apiKey: z.string().regex(KEY_PATTERN, 'expected a CIC key: cic_<12 letters/digits>_<32 letters/digits>').optional(),
  scopes: z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.enum(API_KEY_SCOPES, { error: `expected scopes among ${API_KEY_SCOPES.join(', ')}` })).min(1, 'give at least one scope')),
});

export interface BootstrapSettings {
  adminEmail: string;
  apiKey?: string;
  scopes: ApiKeyScope[];
  demoModel: boolean;
}

/** The command's settings from its flags, falling back to BOOTSTRAP_* variables (how compose and Kubernetes pass them). */
export function bootstrapSettings(args: readonly string[], env: Pick<CliEnv, 'BOOTSTRAP_ADMIN_EMAIL' | 'BOOTSTRAP_API_KEY' | 'BOOTSTRAP_API_KEY_SCOPES'>): BootstrapSettings {
  const { values } = parseFlags(args, {
    'admin-email': { type: 'string' }, 'api-key': { type: 'string' }, scopes: { type: 'string' }, 'demo-model': { type: 'boolean' },
  }, BOOTSTRAP_USAGE);
  const raw = {
    adminEmail: values['admin-email'] ?? env.BOOTSTRAP_ADMIN_EMAIL,
    apiKey: values['api-key'] ?? env.BOOTSTRAP_API_KEY,
    scopes: values.scopes ?? env.BOOTSTRAP_API_KEY_SCOPES ?? 'inference,graphql',
  };
  if (!raw.adminEmail) throw new UsageError('give --admin-email (or set BOOTSTRAP_ADMIN_EMAIL)', BOOTSTRAP_USAGE);
  const parsed = flagsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = { adminEmail: '--admin-email', apiKey: '--api-key', scopes: '--scopes' }[issue.path[0] as 'apiKey'] ?? 'input';
    throw new UsageError(`${flag}: ${issue.message}`, BOOTSTRAP_USAGE);
  }
  return { ...parsed.data, demoModel: values['demo-model'] === true };
}

/** What `cic bootstrap` does, and what npm start runs: ensures the admin, their organization and key (and the demo model). */
export function bootstrap({ prisma, settings }: { prisma: PrismaClient; settings: BootstrapSettings }): Promise<BootstrapResult> {
  return bootstrapPlatform({
    prisma, adminEmail: settings.adminEmail, apiKey: settings.apiKey, scopes: settings.scopes, models: settings.demoModel ? DEFAULT_MODELS : [],
  });
}

/** `cic bootstrap`: prints what it ensured, and a new key's secret once. */
export async function runBootstrap(ctx: CliContext, args: readonly string[]): Promise<void> {
  const settings = bootstrapSettings(args, ctx.env);
  const result = await bootstrap({ prisma: ctx.prisma, settings });
  const key = result.createdKey ? `${result.createdKey}  (new: shown this once)` : settings.apiKey ? 'the one given' : 'exists (its secret was shown when it was created)';
  ctx.io.out(`platform admin ${settings.adminEmail} (${result.userId}) owns organization ${result.organizationId}`);
  ctx.io.out(`api key ${result.apiKeyId} (scopes ${settings.scopes.join(', ')}): ${key}`);
  if (settings.demoModel) ctx.io.out(`models ensured: ${DEFAULT_MODELS.map((m) => m.name).join(', ')}`);
}
