import { afterAll, beforeAll, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema/index.ts';
import { getNamedType, isLeafType, isObjectType, isInterfaceType, isNonNullType, type GraphQLField } from '../../src/graphql/graphql-js.ts';
import { createGraphQLWorld, gql } from './graphql-fixture.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let a: Awaited<ReturnType<typeof world.tenant>>;
let b: Awaited<ReturnType<typeof world.tenant>>;
/** Every id and identifying string of tenant A: none may appear in anything B receives. */
let secrets: string[];
let aIds: string[];

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  b = await world.tenant('Bolt');
  // The walk sends hundreds of deep operations a minute: far more than the cost budget is for (rate-limits.test.ts).
  url = (await world.startApi({ GRAPHQL_RATE_LIMIT_POINTS_PER_MINUTE: '10000000' })).url;
  const { prisma } = world;
  await prisma.invitation.create({ data: { organizationId: a.org.id, email: 'secret-invitee@acme.test', expiresAt: new Date(Date.now() + 86_400_000) } });
  await prisma.usageHourly.create({ data: { organizationId: a.org.id, apiKeyId: a.apiKey.id, modelName: world.model.name, hour: new Date(Date.now() - 3_600_000), requests: 12345 } });
  await prisma.auditLog.create({ data: { actorType: 'USER', actorId: a.owner.id, organizationId: a.org.id, action: 'api_key.create', targetId: a.apiKey.id } });
  const ids = await Promise.all([
    prisma.membership.findMany({ where: { organizationId: a.org.id } }),
    prisma.invitation.findMany({ where: { organizationId: a.org.id } }),
    prisma.ledgerEntry.findMany({ where: { organizationId: a.org.id } }),
    prisma.billingAccount.findMany({ where: { organizationId: a.org.id } }),
    prisma.auditLog.findMany({ where: { organizationId: a.org.id } }),
  ]);
  aIds = [a.org.id, a.owner.id, a.member.id, a.apiKey.id, ...ids.flat().map((r) => r.id)];
  secrets = [...aIds, a.org.name, a.org.slug, a.owner.email, a.member.email, a.apiKey.prefix, 'secret-invitee', '12345'];
});
afterAll(() => world.close());

const since = () => new Date(Date.now() - 7 * 86_400_000).toISOString();

/** Values for required arguments: always tenant A's objects, as an attacker would try. */
function argsOf(field: GraphQLField<unknown, unknown>): string {
  const parts: string[] = [];
  for (const arg of field.args) {
    const name = arg.name;
    if (name === 'first') parts.push('first: 10');
    else if (name === 'from') parts.push(`from: "${since()}"`);
    else if (name === 'organizationId' || (name === 'id' && field.name === 'organization')) parts.push(`${name}: "${a.org.id}"`);
    else if (isNonNullType(arg.type)) parts.push(`${name}: "${a.apiKey.id}"`);
  }
  return parts.length ? `(${parts.join(', ')})` : '';
}

/** A selection of every field reachable within `depth` levels. */
function selectionOf(typeName: string, depth: number): string {
  const type = schema.getType(typeName);
  if (!type || !(isObjectType(type) || isInterfaceType(type))) return '';
  const fields: string[] = ['__typename'];
  for (const field of Object.values(type.getFields())) {
    const named = getNamedType(field.type);
    if (isLeafType(named)) fields.push(`${field.name}${argsOf(field)}`);
    else if (depth > 0) {
      const sub = selectionOf(named.name, depth - 1);
      if (sub) fields.push(`${field.name}${argsOf(field)} ${sub}`);
    }
  }
  return `{ ${fields.join(' ')} }`;
}

it('walks every query field with the other tenant (user and key) and leaks nothing of tenant A', async () => {
  const queryFields = Object.values(schema.getQueryType()!.getFields());
  expect(queryFields.length).toBeGreaterThan(5);
  for (const auth of [b.ownerToken, b.memberToken, b.apiKey.secret]) {
    for (const field of queryFields) {
      const named = getNamedType(field.type);
      const query = field.name === 'node'
        ? null
        : `{ ${field.name}${argsOf(field)} ${isLeafType(named) ? '' : selectionOf(named.name, 4)} }`;
      if (!query) continue;
      const r = await gql(url, query, {}, { auth });
      if (process.env.DEBUG_WALK) console.log(field.name, JSON.stringify(r).slice(0, 300));
      // Refused by a limit before execution would prove nothing: every walk query must execute.
      expect(r.data, `${field.name}: ${JSON.stringify(r.errors)}`).toBeDefined();
      const text = JSON.stringify(r);
      for (const s of secrets) expect(text, `${field.name} leaked ${s}`).not.toContain(s);
    }
  }
});

it('answers null for every node id of tenant A, whatever its type', async () => {
  const nodeTypes = Object.values(schema.getTypeMap()).filter((t) => isObjectType(t) && t.getInterfaces().some((i) => i.name === 'Node'));
  expect(nodeTypes.map((t) => t.name)).toEqual(expect.arrayContaining(['Organization', 'ApiKey', 'Membership', 'Invitation', 'LedgerEntry', 'BillingAccount', 'AuditLogEntry', 'User']));
  for (const auth of [b.ownerToken, b.apiKey.secret]) {
    for (const id of aIds) {
      const r = await gql<{ node: unknown }>(url, `query($id: ID!) { node(id: $id) ${selectionOf('Node', 0).replace('}', '... on Organization { name } ... on ApiKey { prefix } ... on User { email } }')} }`, { id }, { auth });
      expect(r.data?.node ?? null, `node(${id})`).toBeNull();
      for (const s of secrets.filter((x) => x !== id)) expect(JSON.stringify(r)).not.toContain(s);
    }
  }
  // The same ids are visible to tenant A itself (the test would pass vacuously otherwise).
  const own = await gql<{ node: { id: string } | null }>(url, 'query($id: ID!) { node(id: $id) { id } }', { id: a.apiKey.id }, { auth: a.ownerToken });
  expect(own.data?.node?.id).toBe(a.apiKey.id);
});

it("refuses subscriptions to tenant A's usage and billing for tenant B", async () => {
  for (const field of ['usageUpdated', 'billingChanged']) {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${b.apiKey.secret}` },
      body: JSON.stringify({ query: `subscription { ${field}(organizationId: "${a.org.id}") { __typename } }` }),
    });
    const text = await res.text();
    expect(text).toMatch(/FORBIDDEN|Not allowed/);
  }
});
