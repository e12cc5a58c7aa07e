import {
  astFromValue, getNamedType, getNullableType, isEnumType, isInputObjectType, isInterfaceType, isListType, isNonNullType,
  isObjectType, isUnionType, print, valueFromASTUntyped,
  type GraphQLArgument, type GraphQLField, type GraphQLInputField, type GraphQLInputType,
  type GraphQLNamedType, type GraphQLSchema,
} from '../../src/graphql/graphql-js.ts';

/**
 * What a walk aims at: global ids by object type (the victim tenant's, and the platform's nodes and
 * models), and values for string arguments that name something (a served model's name).
 */
export interface WalkTargets {
  ids: Record<string, string[]>;
  names: Record<string, string>;
}

/** One operation of a walk: a root field called with one choice of arguments (as variables, so its text is parsed once). */
export interface WalkOperation {
  field: string;
  text: string;
  variables: Record<string, unknown>;
}

type Values = Record<string, unknown>;

/** Limits that would refuse a walk operation before it runs, proving nothing (their own tests: rate-limits.test.ts, attacks.test.ts). */
export const WALK_LIMITS = {
  GRAPHQL_RATE_LIMIT_POINTS_PER_MINUTE: '1000000000', GRAPHQL_MAX_TOKENS: '1000000', GRAPHQL_MAX_COST: '1000000000', GRAPHQL_MAX_ALIASES: '10000',
};

const DAY_MS = 86_400_000;

/** Optional arguments the walk fills in: ids (the attack) and list filters; pagination asks for a full page. */
const fillsOptional = (arg: GraphQLArgument | GraphQLInputField): boolean =>
  isTargeting(arg) || arg.name === 'first' || (isListType(getNullableType(arg.type)) && isEnumType(getNamedType(arg.type)));

/** An argument that designates an object: an ID, or a string named `…Id` (`auditLog(actorId:)`). */
const isTargeting = (arg: { name: string; type: GraphQLInputType }): boolean => {
  const named = getNamedType(arg.type).name;
  return named === 'ID' || (named === 'String' && /Ids?$/.test(arg.name));
};

/** A candidate that leaves an optional argument out (an unfiltered list is walked too, not only filtered ones). */
const OMIT = Symbol('omit');

/** Every variant covers each candidate of each argument at least once (a zip, not a cartesian product). */
function zip(columns: [string, unknown[]][]): Values[] {
  const rows = Math.max(1, ...columns.map(([, values]) => values.length));
  return Array.from({ length: rows }, (_, i) =>
    Object.fromEntries(columns.map(([name, values]) => [name, values[i % values.length]]).filter(([, value]) => value !== OMIT)));
}

/** The arguments (or input fields) a variant sets, with their candidates. */
function columnsOf(args: readonly (GraphQLArgument | GraphQLInputField)[], values: (arg: GraphQLArgument | GraphQLInputField) => unknown[]): [string, unknown[]][] {
  return args
    .filter((a) => isNonNullType(a.type) || fillsOptional(a))
    .map((a) => [a.name, isNonNullType(a.type) || !isTargeting(a) ? values(a) : [OMIT, ...values(a)]]);
}

/**
 * Builds operations from the schema itself, so a field added tomorrow is walked without touching the
 * test: arguments come from their types (ids of the targets' objects of the type an argument names,
 * enums, scalars, input objects) and every root field selects everything reachable within `depth`.
 */
export class SchemaWalk {
  readonly #schema: GraphQLSchema;
  readonly #targets: WalkTargets;
  readonly #depth: number;

  constructor(schema: GraphQLSchema, targets: WalkTargets, depth = 4) {
    this.#schema = schema;
    this.#targets = targets;
    this.#depth = depth;
  }

  /** Each root field of `kind`, once per variant of its arguments. */
  operations(kind: 'query' | 'mutation' | 'subscription'): WalkOperation[] {
    const root = { query: this.#schema.getQueryType(), mutation: this.#schema.getMutationType(), subscription: this.#schema.getSubscriptionType() }[kind];
    if (!root) return [];
    return Object.values(root.getFields()).flatMap((field) => {
      const selection = this.#selection(getNamedType(field.type), this.#depth);
      return this.#variants(field).map((values) => {
        const args = field.args.filter((a) => a.name in values);
        const declared = args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
        const passed = args.map((a) => `${a.name}: $${a.name}`).join(', ');
        return {
          field: field.name,
          text: `${kind}${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''} ${selection} }`,
          variables: Object.fromEntries(args.map((a) => [a.name, valueFromASTUntyped(astFromValue(values[a.name], a.type)!)])),
        };
      });
    });
  }

  #variants(field: GraphQLField<unknown, unknown>): Values[] {
    const subject = getNamedType(field.type);
    return zip(columnsOf(field.args, (a) => this.#values(a.type, a.name, subject)));
  }

  /** Candidate values for one argument or input field: several where an object is designated, else one. */
  #values(type: GraphQLInputType, name: string, subject: GraphQLNamedType): unknown[] {
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      const item = getNullableType(nullable.ofType);
      // A list of enums is a filter or a grouping: all of them at once selects the most.
      if (isEnumType(item)) return [item.getValues().map((v) => v.value)];
      return this.#values(nullable.ofType, name, subject).map((v) => [v]);
    }
    if (isInputObjectType(nullable)) {
      return zip(columnsOf(Object.values(nullable.getFields()), (f) => this.#values(f.type, f.name, subject)));
    }
    if (isEnumType(nullable)) return [nullable.getValues()[0]!.value];
    if (isTargeting({ name, type: nullable })) return this.#idsFor(name, subject);
    switch (nullable.name) {
      case 'String':
        if (this.#targets.names[name] !== undefined) return [this.#targets.names[name]];
        return [/email/i.test(name) ? 'walk-invitee@example.test' : 'walk-probe'];
      case 'Int': return [name === 'first' ? 100 : 1000];
      case 'Float': return [1];
      // Both: setting a flag to what it already is may change nothing.
      case 'Boolean': return [false, true];
      case 'BigInt': return ['1000'];
      case 'DateTime': return [new Date(Date.now() - 30 * DAY_MS)];
      default: throw new Error(`The schema walk has no value for ${nullable.name} (argument ${name}): add one to schema-walk.ts.`);
    }
  }

  /**
   * The targets' ids of the type an argument names: `id` the type of the field's answer, `organizationId`
   * Organization, `nodeId` ComputeNode. An argument whose type cannot be told gets every id of every type.
   */
  #idsFor(name: string, subject: GraphQLNamedType): string[] {
    const stem = name.replace(/Ids?$/, '').toLowerCase();
    const typeName = name === 'id' ? subject.name : Object.keys(this.#targets.ids).find((t) => t.toLowerCase().endsWith(stem));
    const type = typeName ? this.#schema.getType(typeName) : undefined;
    const types = type && (isInterfaceType(type) || isUnionType(type)) ? this.#schema.getPossibleTypes(type).map((t) => t.name) : [typeName ?? ''];
    const ids = types.flatMap((t) => this.#targets.ids[t] ?? []);
    return ids.length > 0 ? ids : Object.values(this.#targets.ids).flat();
  }

  #arguments(args: readonly GraphQLArgument[], values: Values): string {
    const parts = args.filter((a) => a.name in values).map((a) => `${a.name}: ${print(astFromValue(values[a.name], a.type)!)}`);
    return parts.length > 0 ? `(${parts.join(', ')})` : '';
  }

  /**
   * Every field reachable within `depth` levels; an interface or union selects each of its types one
   * level less deep, their fields aliased by type (`Organization_name: name`): same-named fields may differ in type.
   */
  #selection(type: GraphQLNamedType, depth: number): string {
    if (isUnionType(type) || isInterfaceType(type)) {
      const own = isInterfaceType(type) ? this.#fieldsOf(Object.values(type.getFields()), depth) : [];
      const each = this.#schema.getPossibleTypes(type).map((t) => `... on ${t.name} { ${this.#fieldsOf(Object.values(t.getFields()), depth - 1, `${t.name}_`).join(' ')} }`);
      return `{ __typename ${[...own, ...each].join(' ')} }`;
    }
    if (!isObjectType(type)) return '';
    return `{ __typename ${this.#fieldsOf(Object.values(type.getFields()), depth).join(' ')} }`;
  }

  #fieldsOf(fields: GraphQLField<unknown, unknown>[], depth: number, alias = ''): string[] {
    const selected: string[] = [];
    for (const field of fields) {
      const named = getNamedType(field.type);
      const composite = isObjectType(named) || isInterfaceType(named) || isUnionType(named);
      if (composite && depth <= 0) continue;
      // Nested arguments take the first variant: the root field's variants already cover the targets.
      const args = this.#arguments(field.args, this.#variants(field)[0]!);
      selected.push(`${alias ? `${alias}${field.name}: ` : ''}${field.name}${args}${composite ? ` ${this.#selection(named, depth - 1)}` : ''}`);
    }
    return selected;
  }
}
