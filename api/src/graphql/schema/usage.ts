import { z } from 'zod';
import type { ApiKey } from '@cic/db';
import { queryUsage, totalUsage, type UsagePointRow } from '@cic/core/usage/query-usage';
import { builder } from '../builder.ts';
import { ApiKeyRef } from './api-key.ts';

const UsageGranularityEnum = builder.enumType('UsageGranularity', { values: ['HOUR', 'DAY'] as const });
const UsageGroupByEnum = builder.enumType('UsageGroupBy', { values: ['KEY', 'MODEL'] as const });

type Point = UsagePointRow & { apiKey: ApiKey | null };
type Totals = ReturnType<typeof totalUsage>;

const UsageTotals = builder.objectRef<Totals>('UsageTotals').implement({
  fields: (t) => ({
    requests: t.field({ type: 'BigInt', resolve: (p) => p.requests }),
    errors: t.field({ type: 'BigInt', resolve: (p) => p.errors }),
    promptTokens: t.field({ type: 'BigInt', resolve: (p) => p.promptTokens }),
    completionTokens: t.field({ type: 'BigInt', resolve: (p) => p.completionTokens }),
    costMicros: t.field({ type: 'BigInt', resolve: (p) => p.costMicros }),
  }),
});

const UsagePoint = builder.objectRef<Point>('UsagePoint').implement({
  description: 'One bucket (hour or UTC day), split by key and/or model when grouped.',
  fields: (t) => ({
    bucket: t.field({ type: 'DateTime', resolve: (p) => p.bucket }),
    model: t.string({ nullable: true, description: 'Set when grouped by MODEL.', resolve: (p) => p.modelName }),
    apiKey: t.field({ type: ApiKeyRef, nullable: true, description: 'Set when grouped by KEY.', resolve: (p) => p.apiKey }),
    requests: t.field({ type: 'BigInt', resolve: (p) => p.requests }),
    errors: t.field({ type: 'BigInt', resolve: (p) => p.errors }),
    promptTokens: t.field({ type: 'BigInt', resolve: (p) => p.promptTokens }),
    completionTokens: t.field({ type: 'BigInt', resolve: (p) => p.completionTokens }),
    costMicros: t.field({ type: 'BigInt', resolve: (p) => p.costMicros }),
  }),
});

const UsageSeries = builder.objectRef<{ points: Point[]; totals: Totals }>('UsageSeries').implement({
  fields: (t) => ({
    points: t.field({ type: [UsagePoint], resolve: (s) => s.points }),
    totals: t.field({ type: UsageTotals, resolve: (s) => s.totals }),
  }),
});

builder.prismaObjectField('Organization', 'usage', (t) =>
  t.field({
    type: UsageSeries,
    description: 'Requests, tokens and cost over [from, to): rolled-up hours plus the records not rolled up yet (see docs/graphql.md).',
    args: {
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime', required: false, description: 'Exclusive; default now.' }),
      granularity: t.arg({ type: UsageGranularityEnum, required: false, description: 'Default HOUR.' }),
      groupBy: t.arg({ type: [UsageGroupByEnum], required: false }),
      user: t.arg.string({
        required: false, validate: { schema: z.string().min(1).max(256) },
        description: "Only requests whose OpenAI `user` field was this (read from the usage records, priced at today's model prices).",
      }),
    },
    resolve: async (org, args, ctx) => {
      const rows = await queryUsage({
        prisma: ctx.prisma, organizationId: org.id, from: args.from, to: args.to ?? undefined,
        granularity: args.granularity ?? 'HOUR', groupBy: args.groupBy ?? [], user: args.user ?? undefined,
      });
      // One query for all keys of the series (never one per point).
      const keyIds = [...new Set(rows.map((r) => r.apiKeyId).filter((id): id is string => id !== null))];
      const keys = keyIds.length > 0 ? await ctx.prisma.apiKey.findMany({ where: { id: { in: keyIds }, organizationId: org.id } }) : [];
      const byId = new Map(keys.map((k) => [k.id, k]));
      return { points: rows.map((r) => ({ ...r, apiKey: r.apiKeyId ? (byId.get(r.apiKeyId) ?? null) : null })), totals: totalUsage(rows) };
    },
  }),
);
