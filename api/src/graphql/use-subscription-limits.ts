import type { Plugin } from 'graphql-yoga';
import { AppError, ERROR_CODES } from '@cic/core/errors';
import { GraphQLError } from './graphql-js.ts';
import type { GraphQLContext } from './context.ts';
import type { SubscriptionLimits } from './subscription-limits.ts';

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/**
 * Holds every subscription (graphql-ws and SSE alike) to the per key/user and per organization caps
 * while it runs; the slot is freed when its stream ends, fails or never starts. (The per-socket cap is
 * attach-graphql-ws.ts's: only the socket knows its own subscriptions.) Registered after the other
 * pre-execution checks, so an operation they refuse never takes a slot.
 */
export function useSubscriptionLimits(limits: SubscriptionLimits): Plugin<GraphQLContext> {
  return {
    async onSubscribe({ args, setResultAndStopExecution }) {
      let release: () => void;
      try {
        release = await limits.acquire((args.contextValue as GraphQLContext).viewer);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        setResultAndStopExecution({
          errors: [new GraphQLError(err.message, { extensions: { code: ERROR_CODES[err.code].graphql, limit: err.detail, http: { status: err.status } } })],
        });
        return;
      }
      return {
        onSubscribeResult({ result }) {
          // An operation refused at subscribe time (authorization, validation) has no stream to end.
          if (!isAsyncIterable(result)) {
            release();
            return;
          }
          return { onEnd: release };
        },
        onSubscribeError: release,
      };
    },
  };
}
