import type { ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Viewer } from '@cic/core/auth/viewer';
import { GraphQLError, type ExecutionResult } from './graphql-js.ts';
import type { GraphQLContext } from './context.ts';
import type { CostBudget } from './cost-budget.ts';
import type { GraphQLMetrics } from './graphql-metrics.ts';
import { operationCost } from './operation-cost.ts';

export interface CostRateLimitOptions {
  budget: CostBudget;
  metrics: GraphQLMetrics;
}

/** Whose budget an operation spends: its API key, or its user (all their tabs and sessions together). */
const holderOf = (viewer: Viewer): string | null =>
  viewer.kind === 'apiKey' ? `key:${viewer.keyId}` : viewer.kind === 'user' ? `usr:${viewer.userId}` : null;

/**
 * Rate-limits operations by what they cost (operation-cost.ts), per API key or user per minute, before
 * they run. Each operation of a batch is charged on its own, so a batch cannot run more than the budget
 * allows; one that costs more than a whole minute's budget is refused outright (it could never run).
 */
export function useCostRateLimit({ budget, metrics }: CostRateLimitOptions): Plugin<GraphQLContext> {
  const refuse = (message: string, extensions: Record<string, unknown>): ExecutionResult => ({ errors: [new GraphQLError(message, { extensions })] });

  async function check(args: ExecutionArgs): Promise<ExecutionResult | null> {
    const holder = holderOf((args.contextValue as GraphQLContext).viewer);
    if (!holder) return null;
    const cost = operationCost(args.schema, args.document, args.operationName, args.variableValues);
    if (cost > budget.pointsPerMinute) {
      metrics.rateLimited.inc({ reason: 'too_costly' });
      return refuse(
        `This operation costs ${cost} points, more than the budget of ${budget.pointsPerMinute} points a minute: ask for shorter ranges or smaller pages, or split it.`,
        { code: 'BAD_USER_INPUT', cost, budget: budget.pointsPerMinute },
      );
    }
    const decision = await budget.take(holder, cost);
    if (decision.allowed) {
      metrics.costPoints.inc(cost);
      return null;
    }
    metrics.rateLimited.inc({ reason: 'budget' });
    return refuse(
      `Rate limit: this operation costs ${cost} points and the budget of ${budget.pointsPerMinute} points a minute is spent; retry in ${decision.retryAfterSeconds} s.`,
      { code: 'RATE_LIMITED', cost, retryAfterSeconds: decision.retryAfterSeconds, http: { status: 429, headers: { 'retry-after': String(decision.retryAfterSeconds) } } },
    );
  }

  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const refusal = await check(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const refusal = await check(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
  };
}
