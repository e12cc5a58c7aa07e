import { builder } from '../builder.ts';
import { readableOrganizations } from './tenant.ts';

builder.prismaNode('BillingAccount', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organization: readableOrganizations(ctx.viewer) }),
  authScopes: (acc) => ({ orgMember: acc.organizationId }),
  description: "An organization's prepaid credit. Amounts are micro-dollars (BigInt strings).",
  fields: (t) => ({
    balanceMicros: t.expose('balanceMicros', { type: 'BigInt' }),
    lowBalanceMicros: t.expose('lowBalanceMicros', { type: 'BigInt', description: 'Below this the owners are warned.' }),
    low: t.boolean({ resolve: (acc) => acc.balanceMicros < acc.lowBalanceMicros }),
    frozen: t.boolean({
      description: 'Frozen organizations get 402 on inference.',
      select: { organization: { select: { frozenAt: true } } },
      resolve: (acc) => acc.organization.frozenAt !== null,
    }),
    stripeConfigured: t.boolean({ description: 'Whether a Stripe customer exists for the organization.', resolve: (acc) => acc.stripeCustomerId !== null }),
    ledger: t.prismaConnection({
      type: 'LedgerEntry',
      cursor: 'id',
      description: 'Ledger entries, newest first.',
      resolve: (query, acc, _args, ctx) =>
        ctx.prisma.ledgerEntry.findMany({ ...query, where: { organizationId: acc.organizationId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    }),
  }),
});

const LedgerEntryTypeEnum = builder.enumType('LedgerEntryType', { values: ['PURCHASE', 'USAGE', 'REFUND', 'ADJUSTMENT'] as const });

builder.prismaNode('LedgerEntry', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organization: readableOrganizations(ctx.viewer) }),
  authScopes: (e) => ({ orgMember: e.organizationId }),
  fields: (t) => ({
    type: t.expose('type', { type: LedgerEntryTypeEnum }),
    amountMicros: t.expose('amountMicros', { type: 'BigInt', description: 'Positive credits, negative debits.' }),
    description: t.exposeString('description'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
