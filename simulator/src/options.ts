import { z } from 'zod';

/** Failure kinds the simulator can inject, named after what a client sees. */
export const FAILURE_TYPES = [
  'rate_limit',
  'server_error',
  'context_length',
  'model_not_found',
  'stream_cut',
] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

/** How the simulator chooses its output text. */
export type OutputMode = 'echo' | 'random';

/** Options of {@link createSimulator}; every field is optional. */
export interface SimulatorOptions {
  /** Served model name; requests for any other name get vLLM's 404. @defaultValue `'cic-sim/echo-1'` */
  model?: string;
  /** Interface to bind. @defaultValue `'127.0.0.1'` */
  host?: string;
  /** TCP port; 0 picks a free one. @defaultValue `0` */
  port?: number;
  /** Context window: prompt plus completion tokens. @defaultValue `4096` */
  maxModelLen?: number;
  /** Sequences generated at once; more wait in the queue. @defaultValue `64` */
  maxNumSeqs?: number;
  /** Bound of the waiting queue; a request beyond it gets 503. @defaultValue `256` */
  maxWaiting?: number;
  /** Mean time to first token. @defaultValue `50` */
  ttftMs?: number;
  /** Half-width of the uniform jitter around `ttftMs`. @defaultValue `10` */
  ttftSpreadMs?: number;
  /** Mean inter-token latency. @defaultValue `10` */
  itlMs?: number;
  /** Half-width of the uniform jitter around `itlMs`. @defaultValue `3` */
  itlSpreadMs?: number;
  /**
   * Latency multiplier when all `maxNumSeqs` slots run; it grows linearly from 1 with one
   * running sequence (llm-d's `time-factor-under-load`). @defaultValue `1`
   */
  loadFactor?: number;
  /** `echo` repeats the last user message (or the prompt); `random` picks preset sentences. @defaultValue `'echo'` */
  mode?: OutputMode;
  /** Forces every answer to this many tokens (still capped by `max_tokens`), for benchmarks. @defaultValue unset */
  outputTokens?: number;
  /** Probability (0..1) that a request fails with one of `failureTypes`. @defaultValue `0` */
  failureRate?: number;
  /** Failures to draw from when one is injected. @defaultValue all of {@link FAILURE_TYPES} */
  failureTypes?: FailureType[];
  /** Send the usage chunk on every stream, as vLLM's `--enable-force-include-usage`. @defaultValue `false` */
  enableForceIncludeUsage?: boolean;
  /** Seed of the PRNG behind jitter, random text and failures. @defaultValue a random 32-bit integer */
  seed?: number;
  /**
   * vLLM's `--api-key` (or `VLLM_API_KEY`): requests to `/v1/*` without `Authorization: Bearer <key>` get
   * 401 `{"error":"Unauthorized"}`; `/health` and `/metrics` stay open, as on vLLM. @defaultValue unset (no key)
   */
  apiKey?: string;
  /**
   * Serve the simulator-only `/_sim/*` routes (failure injection, kill, revive, stats); a real vLLM has
   * none, so they are off unless asked for. They require the API key too when one is set. @defaultValue `false`
   */
  enableControlRoutes?: boolean;
  /**
   * Keep the raw bytes of every request body (with method, path and headers) for `GET /_sim/requests`, so a
   * test can check what a proxy forwarded byte for byte. Needs `enableControlRoutes`. @defaultValue `false`
   */
  recordRequests?: boolean;
  /** Length of `/v1/embeddings` vectors (the model's hidden size). @defaultValue `384` */
  embeddingDimensions?: number;
  /**
   * The embedding model supports matryoshka truncation, so `dimensions` (1..embeddingDimensions) is
   * accepted; without it vLLM refuses `dimensions` with a 400. @defaultValue `false`
   */
  matryoshka?: boolean;
  /**
   * vLLM's `--enable-auto-tool-choice`: with {@link toolCallParser} it allows `tool_choice: "auto"` (the
   * default when `tools` are sent); without both, vLLM answers such requests 400. @defaultValue `false`
   */
  enableAutoToolChoice?: boolean;
  /** vLLM's `--tool-call-parser` (e.g. `hermes`); only its presence matters here. @defaultValue unset */
  toolCallParser?: string;
}

const nonNegative = z.number().min(0);
const positiveInt = z.number().int().min(1);

export const failureConfigSchema = z.object({
  rate: nonNegative.max(1),
  types: z.array(z.enum(FAILURE_TYPES)).min(1).default([...FAILURE_TYPES]),
});
export type FailureConfig = z.input<typeof failureConfigSchema>;

const simulatorOptionsSchema = z.object({
  model: z.string().min(1).default('cic-sim/echo-1'),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(0),
  maxModelLen: positiveInt.default(4096),
  maxNumSeqs: positiveInt.default(64),
  maxWaiting: z.number().int().min(0).default(256),
  ttftMs: nonNegative.default(50),
  ttftSpreadMs: nonNegative.default(10),
  itlMs: nonNegative.default(10),
  itlSpreadMs: nonNegative.default(3),
  loadFactor: z.number().min(1).default(1),
  mode: z.enum(['echo', 'random']).default('echo'),
  outputTokens: positiveInt.optional(),
  failureRate: nonNegative.max(1).default(0),
  failureTypes: z.array(z.enum(FAILURE_TYPES)).min(1).default([...FAILURE_TYPES]),
  enableForceIncludeUsage: z.boolean().default(false),
  seed: z
    .number()
    .int()
    .default(() => Math.floor(Math.random() * 2 ** 32)),
  apiKey: z.string().min(1).optional(),
  enableControlRoutes: z.boolean().default(false),
  recordRequests: z.boolean().default(false),
  embeddingDimensions: positiveInt.max(65_536).default(384),
  matryoshka: z.boolean().default(false),
  enableAutoToolChoice: z.boolean().default(false),
  toolCallParser: z.string().min(1).optional(),
}).refine((options) => !options.recordRequests || options.enableControlRoutes, {
  message: 'needs enableControlRoutes (the recording is read at GET /_sim/requests)',
  path: ['recordRequests'],
});

export type ResolvedSimulatorOptions = z.output<typeof simulatorOptionsSchema>;

/** Validates options once, at start-up, so a bad value fails with the option's name. */
export function parseSimulatorOptions(input: SimulatorOptions = {}): ResolvedSimulatorOptions {
  const result = simulatorOptionsSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join('.') || 'options';
    throw new Error(`Invalid simulator option ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
