import type { Prisma, PrismaClient } from '@cic/db';

/** The HTTP status classes the request log filters by (499, the client leaving, is a client error). */
export type RequestStatusClass = 'SUCCESS' | 'CLIENT_ERROR' | 'SERVER_ERROR';

export interface RequestLogFilter {
  apiKeyId?: string | null;
  /** The model name the client sent. */
  model?: string | null;
  status?: RequestStatusClass | null;
}

const STATUS_RANGE: Record<RequestStatusClass, Prisma.IntFilter> = {
  SUCCESS: { lt: 400 },
  CLIENT_ERROR: { gte: 400, lt: 500 },
  SERVER_ERROR: { gte: 500 },
};

/**
 * The organization's request log (its usage records), newest first, as Prisma arguments for a cursor
 * connection. The organization is the first condition and no filter can widen it: another tenant's
 * records never match, whatever key id is asked for. `id` breaks ties between records of one instant.
 */
export function requestLogQuery(organizationId: string, { apiKeyId, model, status }: RequestLogFilter = {}) {
  const where: Prisma.UsageRecordWhereInput = {
    organizationId,
    ...(apiKeyId ? { apiKeyId } : {}),
    ...(model ? { modelName: model } : {}),
    ...(status ? { status: STATUS_RANGE[status] } : {}),
  };
  const orderBy: Prisma.UsageRecordOrderByWithRelationInput[] = [{ startedAt: 'desc' }, { id: 'desc' }];
  return { where, orderBy };
}

export interface ModelPrices {
  promptPriceMicros: bigint;
  completionPriceMicros: bigint;
}

/** Every model's prices by name, in one query (a page of requests names a few models, the catalog is small). */
export async function loadModelPrices(prisma: Pick<PrismaClient, 'servedModel'>): Promise<Map<string, ModelPrices>> {
  const models = await prisma.servedModel.findMany({ select: { name: true, promptPriceMicros: true, completionPriceMicros: true } });
  return new Map(models.map((m) => [m.name, m]));
}

/**
 * What one request costs at the model's current prices (micro-dollars per million tokens), rounded up
 * to the micro-dollar; an unknown model costs 0, as in the rollup. The ledger charges whole hours
 * (rounded once per hour), so the sum of a day's requests may differ from its charges by micro-dollars.
 */
export function requestCostMicros(record: { modelName: string; promptTokens: number; completionTokens: number }, prices: ReadonlyMap<string, ModelPrices>): bigint {
  const p = prices.get(record.modelName);
  if (!p) return 0n;
  const raw = BigInt(record.promptTokens) * p.promptPriceMicros + BigInt(record.completionTokens) * p.completionPriceMicros;
  return (raw + 999_999n) / 1_000_000n;
}
