import { z } from 'zod';
import { createApiKey } from '@cic/core/api-keys/create-api-key';
import { API_KEY_SCOPES } from '@cic/core/api-keys/key-action-options';
import { parseFlags, positiveInt, UsageError } from '../cli-io.ts';
import { platformLimits, type CliContext } from '../cli-context.ts';
import { resolveOrganization } from '../resolve-organization.ts';

export const KEYS_USAGE = `cic keys create ORG --name NAME [--scopes inference,graphql] [--rpm N] [--tpm N] [--expires-days N]

  Creates an API key for ORG (id or slug) and prints its secret on stdout, once (only its hash is kept).
  Idempotent on the name: when ORG already has an active key called NAME, nothing is created or printed.
  --scopes   comma-separated among inference (/v1) and graphql (the GraphQL API); default inference
  --rpm/--tpm  the key's own limits, at most the organization's ceilings; default the organization's defaults`;

const scopesSchema = z.array(z.enum(API_KEY_SCOPES)).min(1);
const nameSchema = z.string().trim().min(1).max(100);

async function createKey(ctx: CliContext, args: readonly string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    name: { type: 'string' }, scopes: { type: 'string' }, rpm: { type: 'string' }, tpm: { type: 'string' }, 'expires-days': { type: 'string' },
  }, KEYS_USAGE, ['ORG']);
  const name = nameSchema.safeParse(values.name);
  if (!name.success) throw new UsageError('--name: give the key a name of 1 to 100 characters', KEYS_USAGE);
  const scopes = scopesSchema.safeParse((values.scopes ?? 'inference').split(',').map((s) => s.trim()).filter(Boolean));
  if (!scopes.success) throw new UsageError(`--scopes "${values.scopes}": expected scopes among ${API_KEY_SCOPES.join(', ')}`, KEYS_USAGE);
  const days = positiveInt(values['expires-days'], '--expires-days', KEYS_USAGE);
  const org = await resolveOrganization(ctx.prisma, positionals[0]!);
  const existing = await ctx.prisma.apiKey.findFirst({ where: { organizationId: org.id, name: name.data, revokedAt: null }, select: { id: true } });
  if (existing) {
    ctx.io.err(`${org.name} already has an active key named "${name.data}" (${existing.id}); nothing created`);
    return;
  }
  const { apiKey, secret } = await createApiKey({
    prisma: ctx.prisma, bus: ctx.bus, actor: { type: 'SYSTEM', id: ctx.operator.name }, requestId: ctx.requestId, organizationId: org.id,
    name: name.data, scopes: scopes.data, platformLimits: platformLimits(ctx),
    rpmLimit: positiveInt(values.rpm, '--rpm', KEYS_USAGE) ?? null, tpmLimit: positiveInt(values.tpm, '--tpm', KEYS_USAGE) ?? null,
    expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null,
  });
  ctx.io.err(`created key ${apiKey.id} "${apiKey.name}" for ${org.name} (${org.id}), scopes ${apiKey.scopes.join(', ')}; its secret, shown once:`);
  ctx.io.out(secret);
}

export async function runKeys(ctx: CliContext, args: readonly string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'create') return createKey(ctx, rest);
  throw new UsageError(sub ? `unknown keys command "${sub}"` : 'give a keys command', KEYS_USAGE);
}
