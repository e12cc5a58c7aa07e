import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphQLWorld, gql } from './graphql-fixture.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let a: Awaited<ReturnType<typeof world.tenant>>;
let b: Awaited<ReturnType<typeof world.tenant>>;

type Entry = { action: string; actorType: string; actorId: string; actor: { email: string; name: string | null } | null };
type AuditAnswer = { auditLog: { edges: { node: Entry }[] } };
const AUDIT = `query($org: ID, $actorEmail: String) {
  auditLog(first: 50, organizationId: $org, actorEmail: $actorEmail) { edges { node { action actorType actorId actor { email name } } } }
}`;

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  b = await world.tenant('Bolt');
  await world.prisma.user.update({ where: { id: a.owner.id }, data: { name: 'Ada Owner' } });
  const entry = (organizationId: string, actorType: 'USER' | 'API_KEY' | 'SYSTEM', actorId: string, action: string) =>
    world.prisma.auditLog.create({ data: { organizationId, actorType, actorId, action } });
  await entry(a.org.id, 'USER', a.owner.id, 'api_key.create');
  await entry(a.org.id, 'USER', a.member.id, 'member.leave');
  await entry(a.org.id, 'API_KEY', a.apiKey.id, 'node.launch');
  await entry(a.org.id, 'SYSTEM', 'billing', 'billing.freeze');
  await entry(b.org.id, 'USER', b.owner.id, 'api_key.revoke');
  url = (await world.startApi()).url;
});
afterAll(() => world.close());

describe('audit log people', () => {
  it('names the person behind each USER entry, and nobody for keys and the system', async () => {
    const r = await gql<AuditAnswer>(url, AUDIT, { org: a.org.id }, { auth: a.ownerToken });
    expect(r.errors).toBeUndefined();
    const byAction = Object.fromEntries(r.data!.auditLog.edges.map((e) => [e.node.action, e.node.actor]));
    expect(byAction).toEqual({
      'api_key.create': { email: a.owner.email, name: 'Ada Owner' },
      'member.leave': { email: a.member.email, name: null },
      'node.launch': null,
      'billing.freeze': null,
    });
  });

  it('filters by a person\'s email, whatever its case', async () => {
    const r = await gql<AuditAnswer>(url, AUDIT, { org: a.org.id, actorEmail: a.member.email.toUpperCase() }, { auth: a.ownerToken });
    expect(r.errors).toBeUndefined();
    expect(r.data!.auditLog.edges.map((e) => e.node.action)).toEqual(['member.leave']);
    const nobody = await gql<AuditAnswer>(url, AUDIT, { org: a.org.id, actorEmail: 'nobody@example.com' }, { auth: a.ownerToken });
    expect(nobody.data!.auditLog.edges).toEqual([]);
  });

  it('security: filtering by another tenant\'s person shows none of their entries', async () => {
    const r = await gql<AuditAnswer>(url, AUDIT, { actorEmail: b.owner.email }, { auth: a.ownerToken });
    expect(r.errors).toBeUndefined();
    expect(r.data!.auditLog.edges).toEqual([]);
    const member = await gql<AuditAnswer>(url, AUDIT, { org: a.org.id }, { auth: a.memberToken });
    expect(member.data?.auditLog.edges ?? []).toEqual([]);
    expect(JSON.stringify(member)).not.toContain(a.owner.email);
  });

  it('bad input: an over-long email is refused with BAD_USER_INPUT', async () => {
    const r = await gql<AuditAnswer>(url, AUDIT, { actorEmail: `${'x'.repeat(320)}@example.com` }, { auth: a.ownerToken });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
