// What an operator's error-level log holds: faults of ours, not refusals a client earned. A member's
// forbidden query, a missing record and subscriptions ended by a shutdown are logged at debug; Yoga
// would report each at error level.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphQLWorld, eventually, gql } from './graphql-fixture.ts';
import { collect, sseClient } from './live-clients.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
const lines: { level: number; msg: string }[] = [];
const sink = new Writable({ write(chunk: Buffer, _enc, done) { for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string }); done(); } });

beforeAll(async () => {
  world = await createGraphQLWorld();
});
afterAll(() => world?.close());

describe('GraphQL error log levels', () => {
  it('refusals and a shutdown are debug lines; nothing is logged at error', async () => {
    const api = await world.startApi({}, pino({ level: 'debug' }, sink));
    const acme = await world.tenant('Acme');
    const forbidden = await gql(api.url, `{ organization(id: "${acme.org.id}") { invitations { id } } }`, {}, { auth: acme.memberToken });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const missing = await gql(api.url, 'mutation { revokeApiKey(id: "key_missing") { id } }', {}, { auth: acme.ownerToken });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const live = collect(sseClient(api.url, world.adminToken), 'subscription { nodeStatusChanged { id status } }');
    await eventually(async () => (await fetch(`${api.url}/metrics`).then((r) => r.text())).match(/^cic_graphql_subscriptions_active [1-9]/m));
    await api.stop();
    await eventually(() => live.errors.length > 0 || live.completed);

    const debug = lines.filter((l) => l.level === 20).map((l) => l.msg);
    expect(debug).toEqual(expect.arrayContaining([expect.stringContaining('Not authorized'), expect.stringContaining('API key not found')]));
    expect(debug).toContain('The server is restarting; reconnect.');
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
