import type { Plugin } from 'graphql-yoga';
import { NoSchemaIntrospectionCustomRule } from './graphql-js.ts';

/** Refuses `__schema` and `__type` as a validation error (GRAPHQL_INTROSPECTION=false, the production default). */
export function useDisableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
