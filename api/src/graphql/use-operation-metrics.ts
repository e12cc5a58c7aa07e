import type { Plugin } from 'graphql-yoga';
import { getOperationAST } from './graphql-js.ts';
import type { GraphQLMetrics } from './graphql-metrics.ts';

/** Counts queries and mutations by outcome, subscriptions as they start, and the ones being served. */
export function useOperationMetrics(metrics: GraphQLMetrics): Plugin {
  return {
    onExecute({ args }) {
      const op = getOperationAST(args.document, args.operationName);
      const type = op?.operation ?? 'unknown';
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result) return;
          metrics.operations.inc({ type, outcome: result.errors?.length ? 'error' : 'ok' });
        },
      };
    },
    onSubscribe() {
      let active = false;
      // A stream can end through both an error and its return(): count it down once.
      const ended = () => {
        if (active) metrics.activeSubscriptions.dec();
        active = false;
      };
      return {
        onSubscribeResult({ result }) {
          // Refused before a stream existed (a limit, authorization): an error, never active.
          if (!(Symbol.asyncIterator in result)) {
            metrics.operations.inc({ type: 'subscription', outcome: 'error' });
            return;
          }
          metrics.operations.inc({ type: 'subscription', outcome: 'ok' });
          metrics.activeSubscriptions.inc();
          active = true;
          return { onEnd: ended };
        },
        onSubscribeError: ended,
      };
    },
  };
}
