import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ZodPlugin from '@pothos/plugin-zod';
import { AppError } from '@cic/core/errors';
import { canManageOrganization, canReadOrganization, isPlatformAdmin } from '@cic/core/auth/viewer';
import type { GraphQLContext } from './context.ts';
import { getDatamodel, type default as PrismaTypes } from './generated/pothos-prisma-types.ts';
import { Prisma } from '@cic/db';
import { decodeGlobalId, encodeGlobalId, UNKNOWN_TYPENAME } from './global-id.ts';

/** Largest `first`/`last` any connection accepts (bigger values are refused, see use-pagination-limit.ts). */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/**
 * The one schema builder: its generics carry the context, the auth scopes and the Prisma model types,
 * so every schema file gets typed parents and arguments.
 */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: {
    /** Any valid user token or `graphql` API key. */
    authenticated: boolean;
    /** A dashboard user (API keys are not). */
    user: boolean;
    platformAdmin: boolean;
    /** Member (or key, or platform admin) of this organization id. */
    orgMember: string;
    /** OWNER/ADMIN of this organization id, or platform admin. */
    orgAdmin: string;
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    BigInt: { Input: bigint; Output: bigint | number | string };
    ID: { Input: string; Output: string | number | bigint };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
}>({
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ZodPlugin],
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  scopeAuth: {
    // Subscriptions are authorized once when they start; live-events.ts re-checks every event.
    authorizeOnSubscribe: true,
    // Anonymous callers learn they must authenticate; signed-in ones that they may not.
    unauthorizedError: (_parent, context, _info, result) =>
      context.viewer.kind === 'anonymous'
        ? new AppError('UNAUTHENTICATED', 'Authenticate with "Authorization: Bearer <session token or API key>".')
        : new AppError('FORBIDDEN', `Not allowed: ${result.message}`),
    authScopes: (context) => ({
      authenticated: context.viewer.kind !== 'anonymous',
      user: context.viewer.kind === 'user',
      platformAdmin: isPlatformAdmin(context.viewer),
      orgMember: (organizationId: string) => canReadOrganization(context.viewer, organizationId),
      orgAdmin: (organizationId: string) => canManageOrganization(context.viewer, organizationId),
    }),
  },
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    maxConnectionSize: MAX_PAGE_SIZE,
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    encodeGlobalID: encodeGlobalId,
    decodeGlobalID: decodeGlobalId,
    nodeTypeOptions: { description: 'An object with a global id (the database id, which carries a type prefix such as org_ or key_).' },
    pageInfoTypeOptions: {},
    nodeQueryOptions: {
      // The documented answer for an id that names nothing this viewer may see, whatever its type or
      // tenant: null, not an error (Pothos's loaders use findUniqueOrThrow, which throws P2025 then).
      resolve: async (_root, { id }, _ctx, _info, resolveNode) => {
        if (id.typename === UNKNOWN_TYPENAME) return null;
        try {
          return await resolveNode(id);
        } catch (err) {
          if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025') return null;
          throw err;
        }
      },
    },
    // `nodes` is the compute-node list; the relay plural lookup is not needed.
    nodesQueryOptions: false,
  },
  zod: {
    validationError: (zodError) => new AppError('BAD_REQUEST', zodError.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')),
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
