import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../../src/graphql/graphql-js.ts';
import { operationCost } from '../../src/graphql/operation-cost.ts';
import { loadPersistedOperations } from '../../src/graphql/persisted-operations.ts';
import { schema } from '../../src/graphql/schema/index.ts';
import { createGraphQLWorld, gql } from './graphql-fixture.ts';

// Operations are charged what they cost before they run, per API key or user per minute
// (docs/graphql.md#rate-limits), so batching and aliases cannot multiply expensive work.

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let a: Awaited<ReturnType<typeof world.tenant>>;

const now = new Date('2026-06-01T00:00:00Z');
const yearBefore = (t: Date) => new Date(t.getTime() - 365 * 86_400_000).toISOString();
/** A year-long usage aggregate, grouped by key and model, ending at `end` (the server's clock by default). */
const YEAR_USAGE = (alias: string, end = new Date()) => `${alias}: usage(from: "${yearBefore(end)}", granularity: DAY, groupBy: [KEY, MODEL]) { totals { requests costMicros } }`;

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  url = (await world.startApi()).url;
});
afterAll(() => world.close());

describe('operation cost', () => {
  const cost = (query: string, variables: Record<string, unknown> = {}) => operationCost(schema, parse(query), undefined, variables, now);

  it('charges usage by days of range, once per organization it runs for, and each alias', () => {
    expect(cost('{ viewer { id } }')).toBe(1);
    expect(cost(`{ organization { ${YEAR_USAGE('u', now)} } }`)).toBe(1 + 365);
    expect(cost(`{ organization { ${Array.from({ length: 15 }, (_, i) => YEAR_USAGE(`u${i}`, now)).join(' ')} } }`)).toBe(1 + 15 * 365);
    expect(cost('query($f: DateTime!) { organization { usage(from: $f) { totals { requests } } } }', { f: new Date(now.getTime() - 30 * 86_400_000).toISOString() })).toBe(31);
    // Each organization of a 100-row page aggregates its own usage...
    expect(cost(`{ organizations(first: 100) { edges { node { ${YEAR_USAGE('u', now)} } } } }`)).toBe(1 + 100 * 365);
    // ...while a nested connection is one statement for all of them.
    expect(cost('{ organizations(first: 10) { edges { node { apiKeys(first: 50) { edges { node { id } } } } } } }')).toBe(2);
    expect(cost('{ viewer { memberships { organization { usage(from: "2026-05-31T00:00:00Z") { totals { requests } } } } } }')).toBe(1 + 10);
  });

  it("keeps every dashboard operation far inside the default budget (2,000 points a minute)", () => {
    const thirtyDaysAgo = new Date(now.getTime() - 30 * 86_400_000).toISOString();
    for (const [, document] of loadPersistedOperations()) {
      const variables = { id: a.org.id, organizationId: a.org.id, nodeId: 'node_x', from: thirtyDaysAgo, granularity: 'DAY', groupBy: ['KEY', 'MODEL'] };
      expect(operationCost(schema, parse(document), undefined, variables, now), document).toBeLessThanOrEqual(50);
    }
  });
});

describe('per key or user per minute', () => {
  it('refuses 10 batched operations of 15 aliased year-long usage aggregates: not one runs', async () => {
    const operation = `{ organization { ${Array.from({ length: 15 }, (_, i) => YEAR_USAGE(`u${i}`)).join(' ')} } }`;
    const res = await fetch(`${url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${a.apiKey.secret}` },
      body: JSON.stringify(Array.from({ length: 10 }, () => ({ query: operation }))),
    });
    const results = (await res.json()) as { data?: unknown; errors?: { message: string; extensions: { code: string } }[] }[];
    expect(results).toHaveLength(10);
    for (const r of results) {
      expect(r.data ?? null).toBeNull();
      expect(r.errors?.[0]).toMatchObject({ message: expect.stringMatching(/costs \d+ points, more than the budget of 2000/), extensions: { code: 'BAD_USER_INPUT' } });
    }
    // A normal dashboard query from the same key still runs.
    const usage = await gql(url, `query($id: ID!, $from: DateTime!) { organization(id: $id) { usage(from: $from, granularity: DAY, groupBy: [KEY]) { totals { requests } } } }`,
      { id: a.org.id, from: new Date(Date.now() - 30 * 86_400_000).toISOString() }, { auth: a.apiKey.secret });
    expect(usage.errors).toBeUndefined();
  });

  it('runs a batch only as far as the budget goes, then answers RATE_LIMITED with when to retry', async () => {
    const small = await world.startApi({ GRAPHQL_RATE_LIMIT_POINTS_PER_MINUTE: '1000' });
    const key = await world.key(a.org.id);
    try {
      // About 366 points each: two fit in 1,000, the other eight are refused without running.
      const operation = `{ organization { ${YEAR_USAGE('u')} } }`;
      const res = await fetch(`${small.url}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` },
        body: JSON.stringify(Array.from({ length: 10 }, () => ({ query: operation }))),
      });
      const results = (await res.json()) as { data?: unknown; errors?: { extensions: { code: string; retryAfterSeconds?: number } }[] }[];
      expect(results.filter((r) => r.data && !r.errors)).toHaveLength(2);
      const refused = results.filter((r) => r.errors?.[0]?.extensions.code === 'RATE_LIMITED');
      expect(refused).toHaveLength(8);
      for (const r of refused) {
        expect(r.data ?? null).toBeNull();
        expect(r.errors![0]!.extensions.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      }
      // A single refused operation is an HTTP 429 with Retry-After.
      const single = await fetch(`${small.url}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` }, body: JSON.stringify({ query: operation }),
      });
      expect(single.status).toBe(429);
      expect(Number(single.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Budgets are per key: another key of the same organization is untouched.
      const other = await gql<{ organization: unknown }>(small.url, operation, {}, { auth: a.apiKey.secret });
      expect(other.errors).toBeUndefined();
      // Refusals are counted.
      expect(await (await fetch(`${small.url}/metrics`)).text()).toMatch(/cic_graphql_rate_limited_total\{reason="budget"\} 9/);
    } finally {
      await small.stop();
    }
  });
});
