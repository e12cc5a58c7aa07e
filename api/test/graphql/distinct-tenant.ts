import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { createGraphQLWorld } from './graphql-fixture.ts';
import { gql } from './graphql-fixture.ts';
import type { WalkTargets } from './schema-walk.ts';

export type GraphQLWorld = Awaited<ReturnType<typeof createGraphQLWorld>>;
export type DistinctTenant = Awaited<ReturnType<typeof seedDistinctTenant>>;

/**
 * A tenant's own numbers. Seven digits or more, and different for every tenant: a balance or a count
 * that leaks shows up in the other tenant's answers (short numbers would also match inside random ids).
 */
export interface TenantFigures {
  balanceMicros: bigint;
  requests: number;
  maxRpm: number;
  maxTpm: number;
  defaultRpm: number;
  defaultTpm: number;
}

/** The fixture's opening credit of every tenant (graphql-fixture.ts). */
const OPENING_BALANCE = 7_000_000n;

async function ok(result: Promise<{ errors?: unknown[] }>): Promise<void> {
  const r = await result;
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
}

/**
 * A tenant with data of its own everywhere a tenant has some: a distinct name, balance and ledger entry,
 * rate-limit ceilings and defaults, usage, members (one joined by accepting an invitation), a pending
 * invitation to an existing account, audit entries. Invitations, limits and credits go through the API
 * as a user and a platform admin would make them.
 */
export async function seedDistinctTenant(world: GraphQLWorld, url: string, name: string, figures: TenantFigures) {
  const { prisma } = world;
  const t = await world.tenant(name);
  const tag = `${name.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  await prisma.organization.update({ where: { id: t.org.id }, data: { name: `${tag} Inc` } });
  await prisma.user.update({ where: { id: t.owner.id }, data: { name: `${tag} owner` } });

  const invitee = await world.user(`${name}-invitee`);
  const pendingInvitee = await world.user(`${name}-pending`);
  const inviteeToken = await world.token(invitee.id);
  const pendingInviteeToken = await world.token(pendingInvitee.id);
  const invite = (email: string, role: string) =>
    gql<{ inviteMember: { id: string } }>(url, 'mutation($input: InviteMemberInput!) { inviteMember(input: $input) { id } }', { input: { organizationId: t.org.id, email, role } }, { auth: t.ownerToken });
  const accepted = await invite(invitee.email, 'ADMIN');
  await ok(gql(url, 'mutation($id: ID!) { acceptInvitation(id: $id) { id } }', { id: accepted.data!.inviteMember.id }, { auth: inviteeToken }));
  await ok(invite(pendingInvitee.email, 'MEMBER'));

  const { balanceMicros, requests, ...limits } = figures;
  await ok(gql(url, 'mutation($input: SetOrganizationLimitsInput!) { setOrganizationLimits(input: $input) { id } }', { input: { organizationId: t.org.id, ...limits } }, { auth: world.adminToken }));
  await ok(gql(url, 'mutation($input: AdjustCreditsInput!) { adjustCredits(input: $input) { balanceMicros } }', {
    input: { organizationId: t.org.id, amountMicros: String(balanceMicros - OPENING_BALANCE), reason: `${tag} credit` },
  }, { auth: world.adminToken }));
  await prisma.usageHourly.create({
    data: { organizationId: t.org.id, apiKeyId: t.apiKey.id, modelName: world.model.name, hour: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000), requests, promptTokens: BigInt(requests) * 3n },
  });

  return { ...t, tag, figures, invitee, inviteeToken, pendingInvitee, pendingInviteeToken };
}

/**
 * The tenant's ids by GraphQL type (plus the platform's node, its event and the model, which tenants may
 * name in arguments too) and every value that identifies the tenant: what its owner sees, and what no
 * other tenant may ever see.
 */
export async function tenantFingerprint(world: GraphQLWorld, tenant: DistinctTenant) {
  const { prisma } = world;
  const where = { organizationId: tenant.org.id };
  const [memberships, invitations, apiKeys, billing, ledger, audit, nodeEvents] = await Promise.all([
    prisma.membership.findMany({ where, include: { user: true }, orderBy: { createdAt: 'asc' } }),
    // Pending first: answering it is what its invitee may do.
    prisma.invitation.findMany({ where, orderBy: { acceptedAt: { sort: 'desc', nulls: 'first' } } }),
    prisma.apiKey.findMany({ where }),
    prisma.billingAccount.findMany({ where }),
    prisma.ledgerEntry.findMany({ where }),
    prisma.auditLog.findMany({ where }),
    prisma.nodeEvent.findMany({ where: { nodeId: world.node.id } }),
  ]);
  const users = memberships.map((m) => m.user);
  const targets: WalkTargets = {
    ids: {
      Organization: [tenant.org.id],
      User: users.map((u) => u.id),
      Membership: memberships.map((m) => m.id),
      Invitation: invitations.map((i) => i.id),
      ApiKey: apiKeys.map((k) => k.id),
      BillingAccount: billing.map((b) => b.id),
      LedgerEntry: ledger.map((l) => l.id),
      AuditLogEntry: audit.map((a) => a.id),
      ComputeNode: [world.node.id],
      NodeEvent: nodeEvents.map((e) => e.id),
      Model: [world.model.id],
    },
    names: { model: world.model.name },
  };
  const { figures } = tenant;
  const values = [
    tenant.org.id, `${tenant.tag} Inc`, tenant.org.slug,
    ...users.flatMap((u) => [u.id, u.email, ...(u.name ? [u.name] : [])]),
    ...memberships.map((m) => m.id),
    ...invitations.flatMap((i) => [i.id, i.email]),
    ...apiKeys.flatMap((k) => [k.id, k.prefix, k.name]),
    ...billing.map((b) => b.id), ...ledger.map((l) => l.id), ...audit.map((a) => a.id),
    String(figures.balanceMicros), String(figures.requests),
    String(figures.maxRpm), String(figures.maxTpm), String(figures.defaultRpm), String(figures.defaultTpm),
  ];
  return { targets, values };
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) as unknown;

/**
 * Every row of the tenant in Postgres, and the platform's nodes, models, model access lists and
 * organization-less audit entries: what another tenant's mutations must leave exactly as it was.
 * (A key's lastUsedAt is left out: using a key writes it, without any mutation.)
 */
export async function snapshotTenant(world: GraphQLWorld, organizationId: string): Promise<unknown> {
  const { prisma } = world;
  const where = { organizationId };
  const byId = { orderBy: { id: 'asc' as const } };
  const rows = await Promise.all([
    prisma.organization.findUnique({ where: { id: organizationId } }),
    prisma.membership.findMany({ where, include: { user: true }, ...byId }),
    prisma.invitation.findMany({ where, ...byId }),
    prisma.apiKey.findMany({ where, omit: { lastUsedAt: true }, ...byId }),
    prisma.billingAccount.findMany({ where, ...byId }),
    prisma.ledgerEntry.findMany({ where, ...byId }),
    prisma.usageHourly.findMany({ where, ...byId }),
    prisma.auditLog.findMany({ where: { OR: [where, { organizationId: null }] }, ...byId }),
    prisma.node.findMany(byId),
    prisma.nodeEvent.findMany(byId),
    prisma.servedModel.findMany(byId),
    prisma.servedModelAccess.findMany({ orderBy: [{ modelId: 'asc' }, { organizationId: 'asc' }] }),
  ]);
  return json(rows);
}
