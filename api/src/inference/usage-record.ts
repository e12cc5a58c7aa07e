import { randomBytes } from 'node:crypto';
import type { UsageOutcome } from '@cic/db';

/** One request's usage as it travels through the Redis stream to `usage_records` (JSON-safe). */
export interface UsageRecordMessage {
  id: string;
  requestId: string;
  organizationId: string;
  apiKeyId: string;
  modelName: string;
  nodeId: string | null;
  endpoint: string;
  stream: boolean;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  estimated: boolean;
  ttftMs: number | null;
  durationMs: number;
  status: number;
  outcome: UsageOutcome;
  errorCode: string | null;
  /** The request's OpenAI `user` field; null when absent (absent in entries from older instances). */
  user?: string | null;
  /** ISO timestamp. */
  startedAt: string;
  /** When the request ended (epoch ms), to measure the writer's lag. */
  endedAt: number;
}

// A random per-process prefix plus a counter: unique across instances and restarts, and no call into
// the CSPRNG per request (ids need to be unique, not secret).
const PROCESS_PREFIX = randomBytes(8).toString('hex');
let counter = 0;

/** A usage record id, made per request: the idempotency key of the writer. */
export const newUsageId = (): string => `use_${PROCESS_PREFIX}${(counter++).toString(36).padStart(8, '0')}`;
