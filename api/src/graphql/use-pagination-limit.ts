import { GraphQLError, Kind, valueFromASTUntyped, visit, type DocumentNode } from './graphql-js.ts';
import type { Plugin } from 'graphql-yoga';

export interface PaginationLimitOptions {
  /**
   * Largest `first`/`last` accepted on any field.
   * @defaultValue 100
   */
  max?: number;
}

/** The first `first`/`last` argument out of bounds in an operation, with its variables applied. */
export function findPageSizeViolation(document: DocumentNode, variables: Record<string, unknown> | null | undefined, max: number): string | null {
  let violation: string | null = null;
  visit(document, {
    Field(field) {
      for (const arg of field.arguments ?? []) {
        if (arg.name.value !== 'first' && arg.name.value !== 'last') continue;
        const value: unknown = arg.value.kind === Kind.NULL ? null : valueFromASTUntyped(arg.value, variables ?? undefined);
        if (value === null || value === undefined) continue;
        if (typeof value !== 'number' || value < 0 || value > max) {
          violation ??= `\`${arg.name.value}\` on \`${field.name.value}\` must be between 0 and ${max} (got ${JSON.stringify(value)}); page with \`after\`/\`before\`.`;
        }
      }
    },
  });
  return violation;
}

/**
 * Refuses, before execution, any connection page larger than `max` (instead of silently clamping it),
 * so a client asking for 1,000,000 rows learns why it did not get them.
 */
export function usePaginationLimit({ max = 100 }: PaginationLimitOptions = {}): Plugin {
  const refuse = (message: string) => ({ errors: [new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } })] });
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const violation = findPageSizeViolation(args.document, args.variableValues, max);
      if (violation) setResultAndStopExecution(refuse(violation));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const violation = findPageSizeViolation(args.document, args.variableValues, max);
      if (violation) setResultAndStopExecution(refuse(violation));
    },
  };
}
