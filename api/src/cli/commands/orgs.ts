import { createHash } from 'node:crypto';
import { adjustCredits } from '@cic/core/billing/adjust-credits';
import { microsToUsd, parseFlags, usdToMicros, UsageError } from '../cli-io.ts';
import type { CliContext } from '../cli-context.ts';
import { resolveOrganization } from '../resolve-organization.ts';

export const ORGS_USAGE = `cic orgs grant-credits ORG --usd AMOUNT --reason TEXT [--idempotency-key KEY]

  Grants AMOUNT USD of credit to ORG (id or slug): one ledger entry, audited, and announced to running
  API instances when REDIS_URL is set. Re-running the same command grants once: the idempotency key
  defaults to one made of ORG, AMOUNT and TEXT; give another --idempotency-key to grant the same again.`;

async function grantCredits(ctx: CliContext, args: readonly string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { usd: { type: 'string' }, reason: { type: 'string' }, 'idempotency-key': { type: 'string' } }, ORGS_USAGE, ['ORG']);
  if (values.usd === undefined || values.reason === undefined) throw new UsageError('give --usd and --reason', ORGS_USAGE);
  const amountMicros = usdToMicros(values.usd, '--usd', ORGS_USAGE);
  if (amountMicros === 0n) throw new UsageError('--usd: grant more than 0', ORGS_USAGE);
  const org = await resolveOrganization(ctx.prisma, positionals[0]!);
  const idempotencyKey = values['idempotency-key'] ?? `cli:${org.id}:${amountMicros}:${createHash('sha256').update(values.reason.trim()).digest('hex').slice(0, 16)}`;
  const result = await adjustCredits({
    prisma: ctx.prisma, bus: ctx.bus, viewer: ctx.operator, requestId: ctx.requestId, organizationId: org.id, amountMicros, reason: values.reason, idempotencyKey,
  });
  ctx.io.out(`${result.inserted ? `granted ${microsToUsd(amountMicros)} USD to` : 'already granted (same idempotency key):'} ${org.name} (${org.id}); balance ${microsToUsd(result.balanceMicros)} USD`);
}

export async function runOrgs(ctx: CliContext, args: readonly string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'grant-credits') return grantCredits(ctx, rest);
  throw new UsageError(sub ? `unknown orgs command "${sub}"` : 'give an orgs command', ORGS_USAGE);
}
