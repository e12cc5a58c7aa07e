import { GraphQLError, visit, type DocumentNode } from './graphql-js.ts';
import type { Plugin } from 'graphql-yoga';

const NUL = '\u0000';

/** The first place a NUL character appears: a variable (at any depth) or a string literal of the document. */
export function findNulCharacter(document: DocumentNode, variables: Record<string, unknown> | null | undefined): string | null {
  const inValue = (value: unknown, path: string): string | null => {
    if (typeof value === 'string') return value.includes(NUL) ? path : null;
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) {
        const found = inValue(item, `${path}[${i}]`);
        if (found) return found;
      }
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const found = inValue(item, `${path}.${key}`);
        if (found) return found;
      }
    }
    return null;
  };
  for (const [name, value] of Object.entries(variables ?? {})) {
    const found = inValue(value, `$${name}`);
    if (found) return `variable ${found}`;
  }
  let literal: string | null = null;
  visit(document, {
    StringValue(node) {
      if (!literal && node.value.includes(NUL)) literal = `the string at line ${node.loc?.startToken.line ?? '?'}, column ${node.loc?.startToken.column ?? '?'}`;
    },
  });
  return literal;
}

/**
 * Refuses operations carrying U+0000 in any string (argument literal or variable) before execution, as
 * BAD_USER_INPUT: PostgreSQL cannot store it in text, so it would otherwise fail deep inside a resolver.
 */
export function useRejectNulCharacters(): Plugin {
  const refuse = (where: string) => ({
    errors: [new GraphQLError(`Strings must not contain NUL characters (\\u0000): ${where}.`, { extensions: { code: 'BAD_USER_INPUT' } })],
  });
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const where = findNulCharacter(args.document, args.variableValues);
      if (where) setResultAndStopExecution(refuse(where));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const where = findNulCharacter(args.document, args.variableValues);
      if (where) setResultAndStopExecution(refuse(where));
    },
  };
}
