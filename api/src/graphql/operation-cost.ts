import {
  getNamedType, getNullableType, getOperationAST, isCompositeType, isListType, Kind, valueFromASTUntyped,
  type DocumentNode, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLSchema, type SelectionSetNode,
} from './graphql-js.ts';
import { DEFAULT_PAGE_SIZE } from './builder.ts';

/** Assumed length of a list that takes no `first` (memberships, members, usage points): lists are small. */
export const LIST_SIZE_ESTIMATE = 10;

const DAY_MS = 86_400_000;

type Args = Record<string, unknown>;

/**
 * Fields that cost more than one database round trip. `Organization.usage` aggregates the range's
 * rollups in SQL: one point per day of range (a year costs 366, the dashboard's 30-day page 30).
 */
const FIELD_COSTS: Readonly<Record<string, (args: Args, now: Date) => number>> = {
  'Organization.usage': (args, now) => {
    const from = Date.parse(String(args.from));
    const to = args.to == null ? now.getTime() : Date.parse(String(args.to));
    if (!Number.isFinite(from) || !Number.isFinite(to)) return 1;
    return Math.min(367, Math.max(1, Math.ceil((to - from) / DAY_MS)));
  },
};

const isConnection = (type: GraphQLCompositeType): boolean => type.name.endsWith('Connection');

/**
 * What an operation costs before it runs, in points (docs/graphql.md#rate-limits): every root field and
 * every connection is one point (one SQL statement per level: Pothos' Prisma plugin loads a level for
 * all its parents at once), and each `FIELD_COSTS` field, whose resolver runs once per parent object,
 * costs its price times the number of parents: `first`/`last` (default 20) under a connection,
 * LIST_SIZE_ESTIMATE under a plain list. Aliases and fragments count each time they are selected.
 */
export function operationCost(
  schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined, now = new Date(),
): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 1;
  const root = schema.getRootType(operation.operation);
  if (!root) return 1;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const walk = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, multiplier: number, spread: ReadonlySet<string>): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) cost += walk(selection.selectionSet, type, multiplier, spread);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        // Validation already refused cycles; the guard only keeps this walk finite regardless.
        if (fragment && type && isCompositeType(type) && !spread.has(fragment.name.value)) {
          cost += walk(fragment.selectionSet, type, multiplier, new Set([...spread, fragment.name.value]));
        }
        continue;
      }
      const field = 'getFields' in parent ? parent.getFields()[selection.name.value] : undefined;
      if (!field) {
        // Introspection (__schema, __type) is one round of in-memory work; __typename is free.
        if (selection.name.value !== '__typename') cost += 1;
        continue;
      }
      const args: Args = {};
      for (const arg of selection.arguments ?? []) args[arg.name.value] = valueFromASTUntyped(arg.value, variables ?? undefined);
      const named = getNamedType(field.type);
      const priced = FIELD_COSTS[`${parent.name}.${field.name}`];
      if (priced) cost += priced(args, now) * multiplier;
      else if (parent === root || (isCompositeType(named) && isConnection(named))) cost += 1;
      if (!selection.selectionSet || !isCompositeType(named)) continue;
      let childMultiplier = multiplier;
      if (isConnection(named)) {
        const size = Number(args.first ?? args.last ?? DEFAULT_PAGE_SIZE);
        childMultiplier *= Number.isFinite(size) && size > 0 ? size : 1;
      } else if (isListType(getNullableType(field.type)) && !isConnection(parent)) {
        childMultiplier *= LIST_SIZE_ESTIMATE;
      }
      cost += walk(selection.selectionSet, named, childMultiplier, spread);
    }
    return cost;
  };
  return Math.max(1, walk(operation.selectionSet, root, 1, new Set()));
}
