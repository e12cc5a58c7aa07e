import type { ApiConfig } from '../config.ts';

/** The part of the API configuration the inference proxy reads (see docs/inference.md). */
export type InferenceSettings = Pick<
  ApiConfig,
  | 'INFERENCE_MAX_BODY_BYTES'
  | 'INFERENCE_REDIS_PREFIX'
  | 'INFERENCE_CONNECT_TIMEOUT_MS'
  | 'INFERENCE_FIRST_BYTE_TIMEOUT_MS'
  | 'INFERENCE_IDLE_TIMEOUT_MS'
  | 'INFERENCE_UPSTREAM_CONNECTIONS'
  | 'INFERENCE_MAX_ATTEMPTS'
  | 'INFERENCE_DEFAULT_MAX_TOKENS'
  | 'INFERENCE_NODE_REFRESH_MS'
  | 'CIRCUIT_FAILURE_THRESHOLD'
  | 'CIRCUIT_COOLDOWN_MS'
  | 'RATE_LIMIT_TIMEOUT_MS'
  | 'USAGE_WRITER_ENABLED'
  | 'USAGE_WRITER_BATCH_SIZE'
>;
