import type { NodeStatus } from '@cic/db';
import { testRedis } from '@cic/db/testing';
import { createSchema, createYoga } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveEvents } from '../../src/graphql/live-events.ts';
import { useSharedSubscriptionExecution } from '../../src/graphql/use-shared-subscription-execution.ts';
import type { Viewer } from '@cic/core/auth/viewer';
import { TopicBus } from '@cic/core/lib/topic-bus';

// The plugin on a small schema, through Yoga's own subscribe: how many times the selection is executed
// per event is what it changes, so the resolvers count their calls.
const { url, prefix } = testRedis();
const redis = new Redis(url);
const bus = new TopicBus({ redis, prefix, log: pino({ level: 'silent' }) });
const events = new LiveEvents(bus);
afterAll(async () => {
  await bus.close();
  redis.disconnect();
});
let executions = 0;
const schema = createSchema<{ viewer: Viewer }>({
  typeDefs: /* GraphQL */ `
    type Node { id: ID! status: String! viewerKind: String! }
    type Query { ok: Boolean }
    type Subscription { nodeStatusChanged(nodeId: ID): Node, usageUpdated: Node }
  `,
  resolvers: {
    Node: {
      status: (e: { status: string }) => {
        executions++;
        return e.status;
      },
      viewerKind: (_e: unknown, _a: unknown, ctx: { viewer: Viewer }) => ctx.viewer.kind,
    },
    Subscription: {
      nodeStatusChanged: {
        subscribe: (_r: unknown, args: { nodeId?: string }) => events.subscribe('nodeStatusChanged', undefined, { filter: (e) => !args.nodeId || e.nodeId === args.nodeId }),
        resolve: (e: { nodeId: string; status: string }) => ({ id: e.nodeId, status: e.status }),
      },
      usageUpdated: {
        subscribe: () => events.subscribe('nodeStatusChanged'),
        resolve: (e: { nodeId: string; status: string }) => ({ id: e.nodeId, status: e.status }),
      },
    },
  },
});
const yoga = createYoga<{ viewer: Viewer }>({ schema, plugins: [useSharedSubscriptionExecution()] });

const admin: Viewer = { kind: 'user', userId: 'usr_a', email: 'a@x', isPlatformAdmin: true, roles: new Map(), selectedOrganizationId: null, expiresAt: new Date(Date.now() + 60_000) } as unknown as Viewer;
const member: Viewer = { ...admin, userId: 'usr_m', isPlatformAdmin: false } as Viewer;

async function subscribe(viewer: Viewer, query: string, variables: Record<string, unknown> = {}) {
  const { subscribe: run, parse, contextFactory, schema: enveloped } = yoga.getEnveloped({ viewer });
  const result = await run({ schema: enveloped, document: parse(query), variableValues: variables, contextValue: await contextFactory() });
  return (result as AsyncIterableIterator<{ data?: unknown }>)[Symbol.asyncIterator]();
}

/** Publishes once the subscriptions made so far are in place on Redis. */
const publish = async (nodeId: string, status: NodeStatus) => {
  await bus.settled();
  await bus.publish('nodeStatusChanged', { nodeId, modelName: 'm', status, previousStatus: null, reason: null, at: '' });
};

describe('shared execution of admin streams', () => {
  it('runs a selection once per event for every admin subscribed with it, and separately per selection and per variables', async () => {
    const same = await Promise.all([subscribe(admin, 'subscription { nodeStatusChanged { id status } }'), subscribe(admin, 'subscription { nodeStatusChanged { id status } }')]);
    const other = await subscribe(admin, 'subscription S { nodeStatusChanged { status id } }');
    const filtered = await subscribe(admin, 'subscription($n: ID) { nodeStatusChanged(nodeId: $n) { id status } }', { n: 'node_1' });
    const reads = [...same, other, filtered].map((it) => it.next());
    executions = 0;
    await publish('node_1', 'READY');
    const results = await Promise.all(reads);
    expect(results.map((r) => r.value)).toEqual([
      { data: { nodeStatusChanged: { id: 'node_1', status: 'READY' } } },
      { data: { nodeStatusChanged: { id: 'node_1', status: 'READY' } } },
      { data: { nodeStatusChanged: { status: 'READY', id: 'node_1' } } },
      { data: { nodeStatusChanged: { id: 'node_1', status: 'READY' } } },
    ]);
    expect(executions).toBe(3); // one per distinct (document, variables), not one per subscriber
    for (const it of [...same, other, filtered]) await it.return!();
  });

  it('does not share with non-admins, nor other subscription fields', async () => {
    const forMember = await subscribe(member, 'subscription { nodeStatusChanged { id status viewerKind } }');
    const forAdmin = await subscribe(admin, 'subscription { nodeStatusChanged { id status viewerKind } }');
    const usage = [await subscribe(admin, 'subscription { usageUpdated { id status } }'), await subscribe(admin, 'subscription { usageUpdated { id status } }')];
    const reads = [forMember, forAdmin, ...usage].map((it) => it.next());
    executions = 0;
    await publish('node_2', 'DRAINING');
    const results = await Promise.all(reads);
    expect(results.every((r) => !r.done)).toBe(true);
    expect(executions).toBe(4); // the member's, the admin's, and each usageUpdated subscriber's own
    for (const it of [forMember, forAdmin, ...usage]) await it.return!();
  });
});
