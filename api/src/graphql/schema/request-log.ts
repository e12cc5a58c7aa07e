import { loadModelPrices, requestCostMicros, requestLogQuery, type ModelPrices } from '@cic/core/usage/request-log';
import { z } from 'zod';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';

const RequestOutcomeEnum = builder.enumType('RequestOutcome', {
  values: {
    SUCCESS: { description: 'Finished normally with usage reported by vLLM.' },
    PARTIAL: { description: 'The stream ended early (node died, client went away); tokens are what was seen or estimated.' },
    CLIENT_ABORTED: { description: 'The client disconnected before anything was generated.' },
    ERROR: { description: 'vLLM or the proxy answered with an error.' },
  } as const,
});

const RequestStatusClassEnum = builder.enumType('RequestStatusClass', {
  values: {
    SUCCESS: { description: 'HTTP status below 400.' },
    CLIENT_ERROR: { description: '400–499 (499: the client left before the answer).' },
    SERVER_ERROR: { description: '500 and above.' },
  } as const,
});

/** Model prices, read once per GraphQL request however many entries a page has. */
const pricesByRequest = new WeakMap<GraphQLContext, Promise<Map<string, ModelPrices>>>();
const pricesOf = (ctx: GraphQLContext) => {
  let prices = pricesByRequest.get(ctx);
  if (!prices) pricesByRequest.set(ctx, (prices = loadModelPrices(ctx.prisma)));
  return prices;
};

builder.prismaObject('UsageRecord', {
  name: 'RequestLogEntry',
  description: 'One inference request of the organization, as metered (its usage record).',
  authScopes: (r) => ({ orgMember: r.organizationId }),
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The usage record id (use_…).' }),
    requestId: t.exposeString('requestId', { description: 'The X-Request-ID the client got, for support look-ups.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    apiKey: t.relation('apiKey'),
    model: t.exposeString('modelName', { description: 'The model name the client sent.' }),
    endpoint: t.exposeString('endpoint', { description: 'e.g. /v1/chat/completions.' }),
    stream: t.exposeBoolean('stream'),
    status: t.exposeInt('status', { description: 'HTTP status of the answer (499: the client left before it).' }),
    outcome: t.expose('outcome', { type: RequestOutcomeEnum }),
    errorCode: t.exposeString('errorCode', { nullable: true }),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    cachedTokens: t.exposeInt('cachedTokens'),
    estimated: t.exposeBoolean('estimated', { description: 'True when vLLM sent no usage and the counts are the proxy\'s estimate.' }),
    ttftMs: t.exposeInt('ttftMs', { nullable: true, description: 'Time to the first token (streams), in milliseconds.' }),
    durationMs: t.exposeInt('durationMs'),
    costMicros: t.field({
      type: 'BigInt',
      description: "At the model's current prices, rounded up to the micro-dollar. The ledger charges whole hours (rounded once per hour), so a sum of requests may differ from the charges by micro-dollars.",
      resolve: async (r, _args, ctx) => requestCostMicros(r, await pricesOf(ctx)),
    }),
  }),
});

builder.prismaObjectField('Organization', 'requests', (t) =>
  t.prismaConnection({
    type: 'UsageRecord',
    cursor: 'id',
    description: "The organization's requests, newest first (one entry per metered request; up to ~seconds behind, as the usage writer batches). Filters combine; the organization's own records only.",
    args: {
      apiKeyId: t.arg.id({ required: false, description: "Only this key's requests (another organization's key matches nothing)." }),
      model: t.arg.string({ required: false, validate: { schema: z.string().trim().min(1).max(200) } }),
      status: t.arg({ type: RequestStatusClassEnum, required: false }),
    },
    resolve: (query, org, args, ctx) =>
      ctx.prisma.usageRecord.findMany({
        ...query,
        ...requestLogQuery(org.id, { apiKeyId: args.apiKeyId ? String(args.apiKeyId) : null, model: args.model?.trim(), status: args.status }),
      }),
  }),
);
