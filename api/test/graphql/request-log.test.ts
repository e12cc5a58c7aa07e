import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphQLWorld, gql } from './graphql-fixture.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let a: Awaited<ReturnType<typeof world.tenant>>;
let b: Awaited<ReturnType<typeof world.tenant>>;
let secondKey: { id: string };

interface Entry {
  id: string; requestId: string; startedAt: string; model: string; status: number; outcome: string; promptTokens: number; completionTokens: number;
  ttftMs: number | null; durationMs: number; costMicros: string; apiKey: { id: string; name: string };
}
interface Answer { organization: { requests: { edges: { node: Entry }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null }
const REQUESTS = `query($org: ID, $first: Int, $after: String, $apiKeyId: ID, $model: String, $status: RequestStatusClass) {
  organization(id: $org) {
    requests(first: $first, after: $after, apiKeyId: $apiKeyId, model: $model, status: $status) {
      edges { node { id requestId startedAt model status outcome promptTokens completionTokens ttftMs durationMs costMicros apiKey { id name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
async function record(organizationId: string, apiKeyId: string, minutes: number, over: { modelName?: string; status?: number; outcome?: 'SUCCESS' | 'ERROR' | 'PARTIAL'; requestId?: string } = {}) {
  return world.prisma.usageRecord.create({
    data: {
      id: `use_${randomUUID().replace(/-/g, '')}`, requestId: over.requestId ?? `req_${minutes}`, organizationId, apiKeyId, modelName: over.modelName ?? world.model.name,
      endpoint: '/v1/chat/completions', stream: true, promptTokens: 1000, completionTokens: 500, ttftMs: 42, durationMs: 900,
      status: over.status ?? 200, outcome: over.outcome ?? 'SUCCESS', startedAt: minutesAgo(minutes),
    },
  });
}
const ids = (r: { data?: Answer | null }) => r.data!.organization!.requests.edges.map((e) => e.node.requestId);

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  b = await world.tenant('Bolt');
  secondKey = await world.key(a.org.id);
  await record(a.org.id, a.apiKey.id, 1, { requestId: 'a-newest' });
  await record(a.org.id, secondKey.id, 2, { requestId: 'a-other-key' });
  await record(a.org.id, a.apiKey.id, 3, { requestId: 'a-other-model', modelName: 'test/unpriced' });
  await record(a.org.id, a.apiKey.id, 4, { requestId: 'a-client-error', status: 400, outcome: 'ERROR' });
  await record(a.org.id, a.apiKey.id, 5, { requestId: 'a-server-error', status: 503, outcome: 'ERROR' });
  await record(b.org.id, b.apiKey.id, 0, { requestId: 'b-secret' });
  url = (await world.startApi()).url;
});
afterAll(() => world.close());

describe('Organization.requests', () => {
  it("lists the organization's requests newest first, with key, timings and cost at the model's prices", async () => {
    const r = await gql<Answer>(url, REQUESTS, { org: a.org.id, first: 10 }, { auth: a.ownerToken });
    expect(r.errors).toBeUndefined();
    expect(ids(r)).toEqual(['a-newest', 'a-other-key', 'a-other-model', 'a-client-error', 'a-server-error']);
    const newest = r.data!.organization!.requests.edges[0]!.node;
    // 1000 prompt tokens at $1/M + 500 completion tokens at $2/M = $0.002.
    expect(newest).toMatchObject({ model: world.model.name, status: 200, outcome: 'SUCCESS', promptTokens: 1000, completionTokens: 500, ttftMs: 42, durationMs: 900, costMicros: '2000', apiKey: { id: a.apiKey.id } });
    expect(newest.id).toMatch(/^use_/);
    // A model without prices costs nothing (as in the rollup).
    expect(r.data!.organization!.requests.edges.find((e) => e.node.requestId === 'a-other-model')!.node.costMicros).toBe('0');
  });

  it('filters by key, model and status class, combined', async () => {
    const by = async (vars: Record<string, unknown>) => ids(await gql<Answer>(url, REQUESTS, { org: a.org.id, first: 10, ...vars }, { auth: a.ownerToken }));
    expect(await by({ apiKeyId: secondKey.id })).toEqual(['a-other-key']);
    expect(await by({ model: 'test/unpriced' })).toEqual(['a-other-model']);
    expect(await by({ status: 'SUCCESS' })).toEqual(['a-newest', 'a-other-key', 'a-other-model']);
    expect(await by({ status: 'CLIENT_ERROR' })).toEqual(['a-client-error']);
    expect(await by({ status: 'SERVER_ERROR' })).toEqual(['a-server-error']);
    expect(await by({ apiKeyId: a.apiKey.id, status: 'SUCCESS', model: world.model.name })).toEqual(['a-newest']);
  });

  it('pages with a cursor: every request once, in order', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const r: { data?: Answer | null } = await gql<Answer>(url, REQUESTS, { org: a.org.id, first: 2, after }, { auth: a.ownerToken });
      const conn = r.data!.organization!.requests;
      seen.push(...conn.edges.map((e) => e.node.requestId));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(['a-newest', 'a-other-key', 'a-other-model', 'a-client-error', 'a-server-error']);
  });

  it('refuses a page larger than 100 (page size is bounded)', async () => {
    const r = await gql<Answer>(url, REQUESTS, { org: a.org.id, first: 101 }, { auth: a.ownerToken });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.data ?? null).toBeNull();
  });

  it('a member and a graphql key of the organization read it too', async () => {
    expect(ids(await gql<Answer>(url, REQUESTS, { org: a.org.id, first: 10 }, { auth: a.memberToken }))).toHaveLength(5);
    expect(ids(await gql<Answer>(url, REQUESTS, { first: 10 }, { auth: a.apiKey.secret }))).toHaveLength(5);
  });

  it("security: another tenant's requests never show, whatever is asked", async () => {
    // Their organization: not found (null), nothing listed.
    const theirs = await gql<Answer>(url, REQUESTS, { org: b.org.id, first: 10 }, { auth: a.ownerToken });
    expect(theirs.data?.organization ?? null).toBeNull();
    // Their key as a filter on our organization: nothing.
    expect(ids(await gql<Answer>(url, REQUESTS, { org: a.org.id, first: 10, apiKeyId: b.apiKey.id }, { auth: a.ownerToken }))).toEqual([]);
    // Their key sees theirs only.
    expect(ids(await gql<Answer>(url, REQUESTS, { first: 10 }, { auth: b.apiKey.secret }))).toEqual(['b-secret']);
    expect(ids(await gql<Answer>(url, REQUESTS, { org: a.org.id, first: 10 }, { auth: a.ownerToken }))).not.toContain('b-secret');
  });

  it('security: without credentials it answers UNAUTHENTICATED', async () => {
    const r = await gql<Answer>(url, REQUESTS, { org: a.org.id, first: 10 });
    expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
