import type { NodeEvent } from '@cic/db';
import type { TopicPayloads } from '@cic/core/lib/topics';
import { builder } from '../builder.ts';
import { throttleSum } from '../throttle-sum.ts';
import { ComputeNodeRef, NodeEventRef } from './compute-node.ts';

const UsageTick = builder.objectRef<TopicPayloads['usageUpdated']>('UsageTick').implement({
  description: 'Requests and tokens metered since the previous tick (ticks are coalesced to a few per second).',
  fields: (t) => ({
    organizationId: t.exposeID('organizationId'),
    requests: t.exposeInt('requests'),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    at: t.exposeString('at'),
  }),
});

const BillingTick = builder.objectRef<TopicPayloads['billingChanged']>('BillingTick').implement({
  fields: (t) => ({
    organizationId: t.exposeID('organizationId'),
    balanceMicros: t.field({ type: 'BigInt', resolve: (b) => b.balanceMicros }),
    frozen: t.exposeBoolean('frozen'),
    low: t.exposeBoolean('low'),
  }),
});

builder.subscriptionFields((t) => ({
  nodeStatusChanged: t.field({
    type: ComputeNodeRef,
    nullable: true,
    authScopes: { platformAdmin: true },
    description: 'Every node status change on any instance (platform admins); `nodeId` narrows to one node.',
    args: { nodeId: t.arg.id({ required: false }) },
    subscribe: (_root, args, ctx) => {
      const nodeId = args.nodeId ? String(args.nodeId) : null;
      return ctx.events.subscribe('nodeStatusChanged', undefined, {
        filter: nodeId ? (e) => e.nodeId === nodeId : undefined,
        guard: { live: ctx.live, viewer: ctx.viewer, check: { platformAdmin: true } },
      });
    },
    resolve: (event, _args, ctx) => ctx.nodeSnapshots.load(event),
  }),
  nodeEvents: t.field({
    type: NodeEventRef,
    authScopes: { platformAdmin: true },
    description: "A node's transitions and log lines as they happen (platform admins).",
    args: { nodeId: t.arg.id() },
    subscribe: (_root, args, ctx) =>
      ctx.events.subscribe('nodeEvents', String(args.nodeId), { guard: { live: ctx.live, viewer: ctx.viewer, check: { platformAdmin: true } } }),
    resolve: (e): NodeEvent => ({ ...e, createdAt: new Date(e.createdAt) }),
  }),
  usageUpdated: t.field({
    type: UsageTick,
    authScopes: (_root, args) => ({ orgMember: String(args.organizationId) }),
    description: "A live ticker of the organization's requests and tokens (members of it).",
    args: { organizationId: t.arg.id() },
    subscribe: (_root, args, ctx) => {
      const organizationId = String(args.organizationId);
      const events = ctx.events.subscribe('usageUpdated', organizationId, { guard: { live: ctx.live, viewer: ctx.viewer, check: { orgMember: organizationId } } });
      return throttleSum(events, ctx.usageEventsPerSecond, ['requests', 'promptTokens', 'completionTokens']);
    },
    resolve: (tick) => tick,
  }),
  billingChanged: t.field({
    type: BillingTick,
    authScopes: (_root, args) => ({ orgMember: String(args.organizationId) }),
    description: "The organization's balance or frozen state changed (members of it).",
    args: { organizationId: t.arg.id() },
    subscribe: (_root, args, ctx) => {
      const organizationId = String(args.organizationId);
      return ctx.events.subscribe('billingChanged', organizationId, { guard: { live: ctx.live, viewer: ctx.viewer, check: { orgMember: organizationId } } });
    },
    resolve: (tick) => tick,
  }),
}));
