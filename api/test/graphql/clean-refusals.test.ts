import { afterAll, beforeAll, expect, it } from 'vitest';
import { isObjectType } from '../../src/graphql/graphql-js.ts';
import { schema } from '../../src/graphql/schema/index.ts';
import { createGraphQLWorld, gql } from './graphql-fixture.ts';
import { collect, wsClient } from './live-clients.ts';

// Inputs that name nothing, or that the database cannot store, are answered as such: null or
// BAD_USER_INPUT, never INTERNAL_SERVER_ERROR.

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let a: Awaited<ReturnType<typeof world.tenant>>;
let b: Awaited<ReturnType<typeof world.tenant>>;

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  b = await world.tenant('Bolt');
  url = (await world.startApi()).url;
});
afterAll(() => world.close());

const NODE = 'query($id: ID!) { node(id: $id) { id } }';

it('node(id:) answers null, without an error, for unknown ids of every type and for malformed ids', async () => {
  const nodeTypes = Object.values(schema.getTypeMap()).filter((t) => isObjectType(t) && t.getInterfaces().some((i) => i.name === 'Node'));
  expect(nodeTypes.length).toBeGreaterThan(8);
  // One unknown id per prefix in use (org_, key_, mem_…), plus ids no type owns.
  const prefixes = ['usr', 'org', 'mem', 'inv', 'key', 'mdl', 'node', 'nev', 'led', 'aud', 'bac'];
  expect(prefixes.length, 'a new Node type needs its prefix here').toBeGreaterThanOrEqual(nodeTypes.length);
  const ids = [...prefixes.map((p) => `${p}_00000000000000000000000000000000`), 'zzz', '', 'org_', '__proto___x', 'constructor_x'];
  for (const auth of [a.ownerToken, a.apiKey.secret, world.adminToken]) {
    for (const id of ids) {
      const r = await gql(url, NODE, { id }, { auth });
      expect(r, `node(${JSON.stringify(id)})`).toMatchObject({ status: 200, data: { node: null } });
      expect(r.errors, `node(${JSON.stringify(id)})`).toBeUndefined();
    }
  }
});

it("node(id:) answers null, without an error, for another tenant's ids, and the object for its own", async () => {
  const bIds = [b.org.id, b.apiKey.id, b.owner.id, b.ownerMembership.id];
  for (const id of bIds) {
    const r = await gql(url, NODE, { id }, { auth: a.ownerToken });
    expect(r.errors, id).toBeUndefined();
    expect(r.data, id).toEqual({ node: null });
  }
  for (const id of bIds) expect((await gql(url, NODE, { id }, { auth: b.ownerToken })).data).toEqual({ node: { id } });
});

it('refuses NUL characters in variables (at any depth) and in literals with BAD_USER_INPUT', async () => {
  const cases: [string, Record<string, unknown>][] = [
    [NODE, { id: 'org_\u0000' }],
    ['query($id: ID) { organization(id: $id) { id } }', { id: `${a.org.id}\u0000` }],
    ['{ organization(id: "org_\\u0000") { id } }', {}],
    ['mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', { input: { organizationId: a.org.id, name: 'k\u0000', scopes: ['inference'] } }],
    ['mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }', { input: { organizationId: a.org.id, name: 'k', scopes: ['inference\u0000'] } }],
    ['{ auditLog(first: 5, action: "x\\u0000") { edges { node { id } } } }', {}],
  ];
  for (const [query, variables] of cases) {
    const r = await gql(url, query, variables, { auth: a.ownerToken });
    expect(r.errors?.[0], query).toMatchObject({ message: expect.stringMatching(/NUL characters/), extensions: { code: 'BAD_USER_INPUT' } });
    expect(r.data ?? null, query).toBeNull();
  }
  // Nothing was written.
  expect(await world.prisma.apiKey.count({ where: { organizationId: a.org.id } })).toBe(1);
});

it('refuses NUL characters in a graphql-ws subscription too', async () => {
  const { client } = wsClient(url, a.ownerToken);
  try {
    const sub = collect(client, 'subscription($org: ID!) { usageUpdated(organizationId: $org) { requests } }', { org: `${a.org.id}\u0000` });
    await expect.poll(() => sub.errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(sub.errors)).toMatch(/BAD_USER_INPUT/);
  } finally {
    await client.dispose();
  }
});
