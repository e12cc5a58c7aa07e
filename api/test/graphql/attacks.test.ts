import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadPersistedOperations } from '../../src/graphql/persisted-operations.ts';
import { createGraphQLWorld, eventually, gql } from './graphql-fixture.ts';
import { collect, wsClient } from './live-clients.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let token: string;

beforeAll(async () => {
  world = await createGraphQLWorld();
  const a = await world.tenant('Acme');
  token = a.ownerToken;
  url = (await world.startApi()).url;
});
afterAll(async () => {
  await world.close();
});

/** The first error's message; every refusal must also carry a machine-readable code. */
const firstError = (r: { errors?: { message: string; extensions?: { code?: string } }[] }) => {
  if (r.errors?.length) expect(r.errors[0]!.extensions?.code).toMatch(/^[A-Z_]+$/);
  return r.errors?.[0]?.message ?? '';
};

/** After every attack the server still answers an ordinary query. */
async function stillServing() {
  const r = await gql<{ viewer: { id: string } }>(url, '{ viewer { id } }', {}, { auth: token });
  expect(r.data?.viewer.id).toBeTruthy();
}

it('refuses a depth bomb', async () => {
  const deep = `{ viewer { memberships { organization { members { organization { members { organization { members { organization { members { organization { members { organization { name } } } } } } } } } } } } } }`;
  const r = await gql(url, deep, {}, { auth: token });
  expect(r.data ?? null).toBeNull();
  expect(firstError(r)).toMatch(/depth/i);
  await stillServing();
});

it('refuses 500 aliases', async () => {
  const q = `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: viewer { id }`).join(' ')} }`;
  const r = await gql(url, q, {}, { auth: token });
  expect(firstError(r)).toMatch(/alias|token/i);
  await stillServing();
});

it('refuses 1,000 duplicated fields (token limit)', async () => {
  const r = await gql(url, `{ viewer { ${'id '.repeat(1000)} } }`, {}, { auth: token });
  expect(firstError(r)).toMatch(/token/i);
  await stillServing();
});

it('refuses circular fragments', async () => {
  const r = await gql(url, 'query { viewer { ...A } } fragment A on Viewer { id ...B } fragment B on Viewer { id ...A }', {}, { auth: token });
  expect(firstError(r)).toMatch(/cannot spread fragment/i);
  await stillServing();
});

it('refuses a batch of 50 operations but runs a batch of 2', async () => {
  const body = Array.from({ length: 50 }, () => ({ query: '{ viewer { id } }' }));
  const r = await gql(url, '', {}, { auth: token, body });
  expect(JSON.stringify(r)).toMatch(/Batching is limited to 10 operations/);
  const res = await fetch(`${url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify([{ query: '{ viewer { id } }' }, { query: '{ models { name } }' }]),
  });
  expect(((await res.json()) as unknown[]).length).toBe(2);
  await stillServing();
});

it('refuses a huge first, also through variables', async () => {
  // A literal this large is already over the cost limit (armor counts `first`); through a variable our check refuses it.
  const r = await gql(url, '{ organizations(first: 1000000) { edges { node { id } } } }', {}, { auth: token });
  expect(firstError(r)).toMatch(/Cost limit|between 0 and 100/);
  expect(r.errors?.[0]?.extensions?.code).toMatch(/GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT/);
  const v = await gql(url, 'query($n: Int) { organizations(first: $n) { edges { node { id } } } }', { n: 101 }, { auth: token });
  expect(v.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  expect(firstError(v)).toMatch(/`first` on `organizations` must be between 0 and 100/);
  await stillServing();
});

it('refuses cross-site simple requests (CSRF) but not JSON or the client header', async () => {
  // With credentials, so the CSRF check (not authentication) is what refuses them.
  const auth = { authorization: `Bearer ${token}` };
  const form = await fetch(`${url}/graphql`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'query={__typename}' });
  expect(form.status).toBe(403);
  const get = await fetch(`${url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: auth });
  expect(get.status).toBe(403);
  const marked = await fetch(`${url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { ...auth, 'x-graphql-client': 'test', accept: 'application/json' } });
  expect(marked.status).toBe(200);
});

it('masks unexpected errors with the request id', async () => {
  // A usage query on an organization id of the wrong shape still answers cleanly; a forced database failure is masked.
  await world.prisma.$executeRawUnsafe('ALTER TABLE usage_hourly RENAME TO usage_hourly_gone');
  try {
    const r = await gql(url, '{ organization { usage(from: "2026-01-01T00:00:00Z") { totals { requests } } } }', {}, { auth: token, headers: { 'x-request-id': 'req-masked' } });
    expect(r.errors?.[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-masked' } });
    expect(JSON.stringify(r)).not.toMatch(/usage_hourly|relation|prisma/i);
  } finally {
    await world.prisma.$executeRawUnsafe('ALTER TABLE usage_hourly_gone RENAME TO usage_hourly');
  }
  await stillServing();
});

it('answers persisted operations by hash, and PERSISTED_QUERY_NOT_FOUND for unknown ones', async () => {
  const store = loadPersistedOperations();
  const [hash, query] = [...store].find(([, q]) => q.trim().startsWith('query Viewer'))!;
  const r = await gql<{ viewer: { id: string } }>(url, '', {}, { auth: token, body: { documentId: hash } });
  expect(r.errors).toBeUndefined();
  expect(r.data?.viewer.id).toBeTruthy();
  const apollo = await gql(url, '', {}, { auth: token, body: { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } } });
  expect(apollo.errors).toBeUndefined();
  const unknown = await gql(url, '', {}, { auth: token, body: { documentId: 'f'.repeat(64) } });
  expect(unknown.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  expect(query).toContain('viewer');
});

it('with GRAPHQL_ALLOW_ARBITRARY_OPERATIONS=false runs only registered operations, over HTTP and graphql-ws', async () => {
  const locked = await world.startApi({ GRAPHQL_ALLOW_ARBITRARY_OPERATIONS: 'false' });
  const store = loadPersistedOperations();
  const [viewerHash, viewerText] = [...store].find(([, q]) => q.trim().startsWith('query Viewer'))!;
  const [statusHash] = [...store].find(([, q]) => q.trim().startsWith('subscription NodeStatus'))!;
  const { client } = wsClient(locked.url, world.adminToken);
  try {
    const arbitrary = await gql(locked.url, '{ viewer { id } }', {}, { auth: token });
    expect(arbitrary.status).toBe(400);
    expect(arbitrary.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    // The dashboard sends its registered text; clients may send the id instead.
    expect((await gql<{ viewer: { id: string } }>(locked.url, viewerText, {}, { auth: token })).data?.viewer.id).toBeTruthy();
    expect((await gql<{ viewer: { id: string } }>(locked.url, '', {}, { auth: token, body: { documentId: viewerHash } })).data?.viewer.id).toBeTruthy();

    const refused = collect(client, 'subscription { nodeStatusChanged { id status } }');
    await eventually(() => refused.errors.length > 0);
    expect(JSON.stringify(refused.errors)).toContain('PERSISTED_QUERY_ONLY');
    const events: unknown[] = [];
    client.subscribe({ query: '', extensions: { persistedQuery: { version: 1, sha256Hash: statusHash } } }, {
      next: (v) => events.push(v), error: (e) => events.push({ error: e }), complete: () => undefined,
    });
    await eventually(async () => {
      await world.bus.publish('nodeStatusChanged', { nodeId: world.node.id, modelName: world.model.name, status: 'READY', previousStatus: 'STARTING', reason: 'probe', at: new Date().toISOString() });
      return events.length > 0;
    });
    expect(events[0]).toMatchObject({ data: { nodeStatusChanged: { id: expect.any(String), status: 'READY' } } });
  } finally {
    await client.dispose();
    await locked.stop();
  }
});

it('hides introspection and field suggestions in production', async () => {
  const prod = await world.startApi({ NODE_ENV: 'production' });
  const intro = await gql(prod.url, '{ __schema { types { name } } }', {}, { auth: token });
  expect(firstError(intro)).toMatch(/introspection/i);
  const typo = await gql(prod.url, '{ viewr { id } }', {}, { auth: token });
  expect(firstError(typo)).not.toMatch(/Did you mean/);
  const dev = await gql(url, '{ viewr { id } }', {}, { auth: token });
  expect(firstError(dev)).toMatch(/Did you mean "viewer"/);
  const graphiql = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } });
  expect(await graphiql.text()).not.toMatch(/graphiql/i);
  await prod.stop();
});

it('refuses over-limit operations over graphql-ws with an error, keeping the socket open', async () => {
  const { client, closes } = wsClient(url, token);
  try {
    const bomb = collect(client, `subscription { ${Array.from({ length: 300 }, (_, i) => `a${i}: usageUpdated(organizationId: "x") { requests }`).join(' ')} }`);
    await eventually(() => bomb.errors.length > 0);
    expect(JSON.stringify(bomb.errors)).toMatch(/limit/i);
    const deep = collect(client, 'subscription { nodeStatusChanged { model { nodes { x } } } }');
    await eventually(() => deep.errors.length > 0);
    // The lazy client closes normally (1000) once it has no subscription left; the server never dropped it.
    expect(closes.filter((c) => c.code !== 1000)).toEqual([]);
  } finally {
    await client.dispose();
  }
});
