import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NodeEvent } from '@cic/db';
import { schema } from '../../src/graphql/schema/index.ts';
import { createGraphQLWorld, eventually, gql, type GqlResult } from './graphql-fixture.ts';
import { collect, sseClient, wsClient, type Received } from './live-clients.ts';
import { seedDistinctTenant, tenantFingerprint, type DistinctTenant, type GraphQLWorld } from './distinct-tenant.ts';
import { SchemaWalk, WALK_LIMITS, type WalkOperation } from './schema-walk.ts';

/**
 * Tenant A attacks tenant B: every query and subscription of the schema, called with B's ids, must
 * answer A nothing of B. The same walk run as B (and as a platform admin, for nodes) must answer B's
 * values, so a walk that only ever errors cannot pass. Mutations: tenant-isolation-mutations.test.ts.
 */

let world: GraphQLWorld;
let url: string;
let a: DistinctTenant;
let b: DistinctTenant;
let bPrint: Awaited<ReturnType<typeof tenantFingerprint>>;
let aValues: string[];
let nodeEvent: NodeEvent;
/** The node and its log line: platform data only admins see. */
let platformValues: string[];
/** Everything tenant A must never receive. */
let forbidden: string[];
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  world = await createGraphQLWorld();
  url = (await world.startApi(WALK_LIMITS)).url;
  a = await seedDistinctTenant(world, url, 'Acme', { balanceMicros: 1_414_213_562n, requests: 1_732_050, maxRpm: 2_236_067, maxTpm: 9_876_543, defaultRpm: 1_618_033, defaultTpm: 6_180_339 });
  b = await seedDistinctTenant(world, url, 'Bolt', { balanceMicros: 2_718_281_828n, requests: 3_141_592, maxRpm: 8_642_097, maxTpm: 7_654_321, defaultRpm: 5_318_008, defaultTpm: 4_669_201 });
  nodeEvent = await world.prisma.nodeEvent.create({ data: { nodeId: world.node.id, kind: 'LOG', message: `pulling weights ${randomBytes(4).toString('hex')}` } });
  bPrint = await tenantFingerprint(world, b);
  aValues = (await tenantFingerprint(world, a)).values;
  platformValues = [world.node.id, world.node.clusterName, world.node.endpointUrl!, nodeEvent.id, nodeEvent.message];
  forbidden = [...bPrint.values, ...platformValues, b.apiKey.secret];
});
afterAll(async () => {
  for (const c of cleanups) await c();
  await world.close();
});

/** Tenant A's three ways in, each also claiming B's organization as the selected one. */
const ATTACKERS = {
  'A owner': () => a.ownerToken,
  'A member': () => a.memberToken,
  'A key': () => a.apiKey.secret,
};
const attackers = () => Object.entries(ATTACKERS).map(([who, auth]) => ({ who, auth: auth() }));
const claimB = () => ({ 'x-organization-id': b.org.id });

interface Answer extends WalkOperation { result: GqlResult }

async function walkQueries(auth: string, headers: Record<string, string> = {}): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const op of new SchemaWalk(schema, bPrint.targets).operations('query')) {
    answers.push({ ...op, result: await gql(url, op.text, op.variables, { auth, headers }) });
  }
  return answers;
}

const codesOf = (result: { errors?: { extensions?: { code?: string } }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);
const found = (values: string[], text: string) => values.filter((v) => text.includes(v));

it.each(Object.keys(ATTACKERS))("walks every query field as %s with tenant B's ids and receives nothing of B or of the platform's nodes", async (who) => {
  const answers = await walkQueries(ATTACKERS[who as keyof typeof ATTACKERS](), claimB());
  expect(new Set(answers.map((x) => x.field))).toEqual(new Set(Object.keys(schema.getQueryType()!.getFields())));
  for (const { field, variables, result } of answers) {
    // Refused by a limit before execution would prove nothing: every walk operation must execute.
    expect(result.data, `${who} ${field}: ${JSON.stringify(result.errors)}`).toBeDefined();
    expect(codesOf(result), `${who} ${field}${JSON.stringify(variables)}`).not.toContain('INTERNAL_SERVER_ERROR');
    expect(found(forbidden, JSON.stringify(result)), `${who} ${field}${JSON.stringify(variables)} leaked`).toEqual([]);
  }
});

it("the same walk as tenant B answers every one of B's values, none of A's nor of the nodes", async () => {
  const own = await walkQueries(b.ownerToken);
  for (const { field, variables, result } of own) expect(codesOf(result), `${field}${JSON.stringify(variables)}`).not.toContain('INTERNAL_SERVER_ERROR');
  const ownText = JSON.stringify(own.map((x) => x.result));
  expect(bPrint.values.filter((v) => !ownText.includes(v)), "B's values its own walk did not see").toEqual([]);
  expect(found([...aValues, ...platformValues, b.apiKey.secret], ownText)).toEqual([]);
});

it("the same walk as a platform admin answers the node's values", async () => {
  const adminText = JSON.stringify((await walkQueries(world.adminToken)).map((x) => x.result));
  expect(platformValues.filter((v) => !adminText.includes(v)), 'node values the admin walk did not see').toEqual([]);
});

it("answers node(id:) null for every id of tenant B and of the nodes, whatever its type; B's own ids resolve for B", async () => {
  const { Model: models, ...tenantAndNodes } = bPrint.targets.ids;
  expect(models).toBeDefined(); // models are everyone's: the one id A may resolve
  const query = `query($id: ID!) { node(id: $id) { id ... on Organization { name } ... on ApiKey { prefix } ... on User { email } ... on Invitation { email } } }`;
  for (const { who, auth } of attackers()) {
    for (const id of Object.values(tenantAndNodes).flat()) {
      const r = await gql<{ node: unknown }>(url, query, { id }, { auth, headers: claimB() });
      expect(r.errors, `${who} node(${id})`).toBeUndefined();
      expect(r.data?.node, `${who} node(${id})`).toBeNull();
    }
  }
  const { ComputeNode: _n, NodeEvent: _e, ...ownTypes } = tenantAndNodes;
  for (const id of Object.values(ownTypes).flat()) {
    const r = await gql<{ node: { id: string } | null }>(url, query, { id }, { auth: b.ownerToken });
    expect(r.data?.node?.id, `B's own node(${id})`).toBe(id);
  }
});

it("subscribed to B's organization and node events (graphql-ws and SSE), A receives none and is refused; B and a platform admin receive them", async () => {
  const operations = new SchemaWalk(schema, bPrint.targets).operations('subscription');
  const at = () => new Date().toISOString();
  // What makes each subscription field fire for tenant B, as the jobs worker publishes it.
  const triggers: Record<string, () => Promise<void>> = {
    usageUpdated: () => world.bus.publish('usageUpdated', { organizationId: b.org.id, requests: b.figures.requests, promptTokens: 3, completionTokens: 4, at: at() }, b.org.id),
    billingChanged: () => world.bus.publish('billingChanged', { organizationId: b.org.id, balanceMicros: String(b.figures.balanceMicros), frozen: false, low: false }, b.org.id),
    nodeStatusChanged: () => world.bus.publish('nodeStatusChanged', { nodeId: world.node.id, modelName: world.model.name, status: 'READY', previousStatus: 'STARTING', reason: 'walk', at: at() }),
    nodeEvents: () => world.bus.publish('nodeEvents', { id: nodeEvent.id, nodeId: world.node.id, kind: 'LOG', message: nodeEvent.message, fromStatus: null, toStatus: null, createdAt: at() }, world.node.id),
  };
  expect(Object.keys(triggers).sort(), 'every subscription field needs a trigger here').toEqual([...new Set(operations.map((o) => o.field))].sort());

  type Subscriber = WalkOperation & { who: string; received: Received<unknown> };
  const subscribe = (who: string, auth: string, transport: 'ws' | 'sse'): Subscriber[] => {
    const client = transport === 'ws' ? wsClient(url, auth).client : sseClient(url, auth);
    cleanups.push(() => client.dispose());
    return operations.map((op) => ({ who: `${who} (${transport})`, ...op, received: collect(client, op.text, op.variables) }));
  };
  const attacking = attackers().flatMap(({ who, auth }) => [...subscribe(who, auth, 'ws'), ...subscribe(who, auth, 'sse')]);
  const rightful = [...subscribe('B owner', b.ownerToken, 'ws'), ...subscribe('B owner', b.ownerToken, 'sse'), ...subscribe('admin', world.adminToken, 'ws')];

  const fire = async () => {
    for (const trigger of Object.values(triggers)) await trigger();
    await new Promise((r) => setTimeout(r, 100));
  };
  const delivered = () => rightful.reduce((n, s) => n + s.received.events.length, 0);
  const fields = Object.keys(triggers);
  await eventually(async () => {
    await fire();
    return fields.every((f) => rightful.some((s) => s.field === f && s.received.events.length > 0));
  });
  // One more round once every rightful stream is live: the attackers' streams, opened first, are too.
  const before = delivered();
  await eventually(async () => {
    await fire();
    return delivered() > before;
  });

  for (const field of fields) {
    const text = JSON.stringify(rightful.filter((s) => s.field === field).map((s) => s.received.events));
    expect(found(forbidden, text), `what B or the admin received on ${field}`).not.toEqual([]);
  }
  for (const s of attacking) {
    expect(s.received.events, `${s.who} ${s.field}${JSON.stringify(s.variables)}`).toEqual([]);
    const errors = JSON.stringify(s.received.errors);
    expect(errors, `${s.who} ${s.field}${JSON.stringify(s.variables)}`).toMatch(/FORBIDDEN|NOT_FOUND/);
    expect(errors).not.toContain('INTERNAL_SERVER_ERROR');
    expect(found(forbidden, errors)).toEqual([]);
  }
});
