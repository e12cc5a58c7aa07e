import type { PrismaClient } from '@cic/db';
import type { Actor } from '../audit/write-audit-log.ts';
import type { TopicPublisher } from '../lib/topic-bus.ts';

/** What every key-management service needs besides its own arguments. */
export interface KeyActionContext {
  prisma: PrismaClient;
  /** Publishes `apiKeyChanged` so every instance's KeyAuthenticator drops the key. */
  bus: TopicPublisher;
  /** Who acts (audit log). */
  actor: Actor;
  /** The request that asked (audit log). */
  requestId: string;
}

/** Scopes a key may carry: `inference` for /v1, `graphql` for this API. */
export const API_KEY_SCOPES = ['inference', 'graphql'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
