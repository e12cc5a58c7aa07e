import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphQLWorld, gql } from './graphql-fixture.ts';

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

describe('authentication', () => {
  it('accepts a session token and reports the viewer, role and memberships', async () => {
    const r = await gql<{ viewer: { kind: string; id: string; isPlatformAdmin: boolean; role: string; memberships: { role: string; organization: { id: string } }[] } }>(
      url, '{ viewer { kind id isPlatformAdmin role memberships { role organization { id } } } }', {}, { auth: a.memberToken });
    expect(r.errors).toBeUndefined();
    expect(r.data?.viewer).toMatchObject({ kind: 'USER', id: a.member.id, isPlatformAdmin: false, role: 'MEMBER' });
    expect(r.data?.viewer.memberships).toEqual([{ role: 'MEMBER', organization: { id: a.org.id } }]);
  });

  it('accepts an API key with the graphql scope, acting as MEMBER of its organization', async () => {
    const r = await gql<{ viewer: { kind: string; id: string; role: string; organizations: { id: string }[] } }>(url, '{ viewer { kind id role organizations { id } } }', {}, { auth: a.apiKey.secret });
    expect(r.data?.viewer).toEqual({ kind: 'API_KEY', id: a.apiKey.id, role: 'MEMBER', organizations: [{ id: a.org.id }] });
  });

  it('refuses anonymous callers with UNAUTHENTICATED', async () => {
    const r = await gql(url, '{ viewer { id } }');
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(r.data?.viewer ?? null).toBeNull();
  });

  it('refuses a bad, expired or foreign-signed token with 401', async () => {
    for (const token of ['not-a-jwt', await world.token('usr_nobody')]) {
      const r = await gql(url, '{ viewer { id } }', {}, { auth: token });
      expect(r.status).toBe(401);
      expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const { signSessionToken } = await import('@cic/core/auth/session-token');
    const forged = await signSessionToken({ userId: a.owner.id, secret: 'another-secret-of-at-least-32-characters!!' });
    expect((await gql(url, '{ viewer { id } }', {}, { auth: forged })).status).toBe(401);
  });

  it('refuses an inference-only key with FORBIDDEN and a revoked key with UNAUTHENTICATED', async () => {
    const inferenceKey = await world.key(a.org.id, ['inference']);
    const r = await gql(url, '{ viewer { id } }', {}, { auth: inferenceKey.secret });
    expect(r.status).toBe(403);
    expect(r.errors?.[0]?.message).toMatch(/graphql/);
    const revoked = await world.key(a.org.id);
    await world.prisma.apiKey.update({ where: { id: revoked.id }, data: { revokedAt: new Date() } });
    expect((await gql(url, '{ viewer { id } }', {}, { auth: revoked.secret })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('selects the organization from x-organization-id when the user belongs to it', async () => {
    await world.prisma.membership.create({ data: { userId: a.owner.id, organizationId: b.org.id, role: 'MEMBER' } });
    const q = '{ viewer { role organization { id } } }';
    const chosen = await gql<{ viewer: { role: string; organization: { id: string } } }>(url, q, {}, { auth: a.ownerToken, headers: { 'x-organization-id': b.org.id } });
    expect(chosen.data?.viewer).toEqual({ role: 'MEMBER', organization: { id: b.org.id } });
    const other = await world.tenant('Other');
    const ignored = await gql<{ viewer: { organization: { id: string } } }>(url, q, {}, { auth: a.ownerToken, headers: { 'x-organization-id': other.org.id } });
    expect(ignored.data?.viewer.organization.id).toBe(a.org.id);
    await world.prisma.membership.deleteMany({ where: { userId: a.owner.id, organizationId: b.org.id } });
  });
});

describe('organization', () => {
  const ORG = `query Org($id: ID) { organization(id: $id) { id name viewerRole members { role user { email } }
    apiKeys(first: 10) { totalCount edges { node { id name prefix scopes } } }
    billing { balanceMicros low frozen ledger(first: 5) { edges { node { type amountMicros description } } } } } }`;

  it('answers members with members, keys and billing', async () => {
    const r = await gql<{ organization: { id: string; viewerRole: string; members: unknown[]; apiKeys: { totalCount: number }; billing: { balanceMicros: string; frozen: boolean; ledger: { edges: { node: { amountMicros: string } }[] } } } }>(
      url, ORG, { id: a.org.id }, { auth: a.memberToken });
    expect(r.errors).toBeUndefined();
    expect(r.data?.organization).toMatchObject({ id: a.org.id, viewerRole: 'MEMBER' });
    expect(r.data?.organization.members).toHaveLength(2);
    expect(r.data?.organization.billing).toMatchObject({ balanceMicros: '7000000', frozen: false });
    expect(r.data?.organization.billing.ledger.edges[0]?.node.amountMicros).toBe('7000000');
  });

  it('defaults to the selected organization without id', async () => {
    const r = await gql<{ organization: { id: string } }>(url, ORG, {}, { auth: a.apiKey.secret });
    expect(r.data?.organization.id).toBe(a.org.id);
  });

  it("answers null for another tenant's organization, for users and keys", async () => {
    for (const auth of [b.ownerToken, b.apiKey.secret]) {
      const r = await gql(url, ORG, { id: a.org.id }, { auth });
      expect(r.data?.organization).toBeNull();
      expect(JSON.stringify(r)).not.toContain(a.org.name);
    }
  });

  it('lets platform admins list every organization; others see only theirs', async () => {
    const q = '{ organizations(first: 100) { edges { node { id } } } }';
    const all = await gql<{ organizations: { edges: { node: { id: string } }[] } }>(url, q, {}, { auth: world.adminToken });
    expect(all.data?.organizations.edges.map((e) => e.node.id)).toEqual(expect.arrayContaining([a.org.id, b.org.id]));
    const mine = await gql<{ organizations: { edges: { node: { id: string } }[] } }>(url, q, {}, { auth: b.memberToken });
    expect(mine.data?.organizations.edges.map((e) => e.node.id)).toEqual([b.org.id]);
  });

  it('shows invitations only to owners and admins', async () => {
    const q = 'query($id: ID) { organization(id: $id) { invitations { email } } }';
    expect((await gql(url, q, { id: a.org.id }, { auth: a.ownerToken })).errors).toBeUndefined();
    expect((await gql(url, q, { id: a.org.id }, { auth: a.memberToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('usage', () => {
  it('sums usage_hourly with not-yet-rolled-up records, grouped by key and model', async () => {
    const hour = new Date('2026-01-10T10:00:00Z');
    await world.prisma.usageHourly.create({ data: { organizationId: a.org.id, apiKeyId: a.apiKey.id, modelName: world.model.name, hour, requests: 3, promptTokens: 30n, completionTokens: 60n, costMicros: 150n } });
    await world.prisma.usageRecord.create({
      data: {
        id: 'ur_1', requestId: 'req_1', organizationId: a.org.id, apiKeyId: a.apiKey.id, modelName: world.model.name, endpoint: 'chat', stream: false,
        promptTokens: 1_000_000, completionTokens: 500_000, durationMs: 5, status: 200, outcome: 'SUCCESS', startedAt: new Date('2026-01-10T10:30:00Z'),
      },
    });
    // Another tenant's usage in the same hour must not be counted.
    await world.prisma.usageHourly.create({ data: { organizationId: b.org.id, apiKeyId: b.apiKey.id, modelName: world.model.name, hour, requests: 99 } });
    const q = `query($id: ID, $from: DateTime!, $to: DateTime) { organization(id: $id) {
      usage(from: $from, to: $to, granularity: HOUR, groupBy: [KEY, MODEL]) { points { bucket model apiKey { id } requests promptTokens costMicros } totals { requests completionTokens costMicros } } } }`;
    const r = await gql<{ organization: { usage: { points: { bucket: string; model: string; apiKey: { id: string }; requests: string; promptTokens: string }[]; totals: { requests: string; completionTokens: string; costMicros: string } } } }>(
      url, q, { id: a.org.id, from: '2026-01-10T00:00:00Z', to: '2026-01-11T00:00:00Z' }, { auth: a.memberToken });
    expect(r.errors).toBeUndefined();
    expect(r.data?.organization.usage.points).toEqual([
      { bucket: '2026-01-10T10:00:00.000Z', model: world.model.name, apiKey: { id: a.apiKey.id }, requests: '4', promptTokens: '1000030', costMicros: '2000150' },
    ]);
    // 1M prompt tokens at 1 USD/M + 0.5M completion at 2 USD/M = 2 USD; plus 150 from the rollup.
    expect(r.data?.organization.usage.totals).toEqual({ requests: '4', completionTokens: '500060', costMicros: '2000150' });
    const day = await gql<{ organization: { usage: { points: { bucket: string; model: null; apiKey: null }[] } } }>(
      url, q.replace('granularity: HOUR, groupBy: [KEY, MODEL]', 'granularity: DAY'), { id: a.org.id, from: '2026-01-10T00:00:00Z', to: '2026-01-11T00:00:00Z' }, { auth: a.memberToken });
    expect(day.data?.organization.usage.points).toEqual([expect.objectContaining({ bucket: '2026-01-10T00:00:00.000Z', model: null, apiKey: null })]);
  });

  it('refuses a reversed or too wide range with BAD_USER_INPUT', async () => {
    const q = 'query($from: DateTime!, $to: DateTime) { organization { usage(from: $from, to: $to) { totals { requests } } } }';
    const reversed = await gql(url, q, { from: '2026-01-11T00:00:00Z', to: '2026-01-10T00:00:00Z' }, { auth: a.memberToken });
    expect(reversed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const wide = await gql(url, q, { from: '2020-01-01T00:00:00Z', to: '2026-01-10T00:00:00Z' }, { auth: a.memberToken });
    expect(wide.errors?.[0]?.message).toMatch(/366 days/);
    const badDate = await gql(url, q, { from: 'yesterday' }, { auth: a.memberToken });
    expect(badDate.errors?.[0]?.message).toMatch(/ISO 8601/);
  });
});

describe('models and nodes', () => {
  it('shows models with prices and availability to members, without node details', async () => {
    const r = await gql<{ models: { name: string; promptPriceMicros: string; readyNodes: number; available: boolean }[] }>(
      url, '{ models { name promptPriceMicros readyNodes available } }', {}, { auth: a.memberToken });
    expect(r.data?.models).toContainEqual({ name: world.model.name, promptPriceMicros: '1000000', readyNodes: 1, available: true });
    const nodes = await gql(url, '{ nodes(first: 5) { edges { node { endpointUrl } } } }', {}, { auth: a.ownerToken });
    expect(nodes.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(nodes)).not.toContain('10.0.0.1');
  });

  it('shows nodes and their events to platform admins', async () => {
    await world.prisma.nodeEvent.create({ data: { nodeId: world.node.id, kind: 'LOG', message: 'hello from the node' } });
    const r = await gql<{ node: { id: string; endpointUrl: string; model: { name: string }; events: { edges: { node: { message: string } }[] } } }>(
      url, 'query($id: ID!) { node(id: $id) { ... on ComputeNode { id endpointUrl model { name } events(first: 10) { edges { node { message } } } } } }', { id: world.node.id }, { auth: world.adminToken });
    expect(r.errors).toBeUndefined();
    expect(r.data?.node).toMatchObject({ id: world.node.id, endpointUrl: 'http://10.0.0.1:8000', model: { name: world.model.name } });
    expect(r.data?.node.events.edges.map((e) => e.node.message)).toContain('hello from the node');
  });

  it('answers null for a node asked by a non-admin', async () => {
    const r = await gql(url, 'query($id: ID!) { node(id: $id) { id } }', { id: world.node.id }, { auth: a.ownerToken });
    expect(r.data?.node ?? null).toBeNull();
  });
});
