import { z } from 'zod';

/*
 * Allow-lists, not deny-lists: these values end up in a SkyPilot task (YAML read by PyYAML, which also
 * breaks lines on U+0085, U+2028 and U+2029), in environment variables of the node's shell and on
 * vLLM's command line. Only printable ASCII without spaces, quotes of the shell or YAML comment marks.
 */
/** A vLLM flag (`--max-model-len`, `-tp`). */
const VLLM_FLAG = /^--?[A-Za-z0-9][\w.-]*$/;
/** A flag's value: numbers, names, paths, `key=value`, compact JSON (`{"temperature":0.6}`). */
const VLLM_VALUE = /^[\w.,:=/+{}[\]"-]+$/;
/** Flags CIC sets itself: the key must stay out of the command line, the others fix where vLLM listens and what it is called. */
const RESERVED_VLLM_FLAGS = new Set(['--api-key', '--host', '--port', '--served-model-name']);
/** Variables CIC sets on the node (docs/jobs.md#the-task). */
export const RESERVED_ENV_NAMES = ['VLLM_API_KEY', 'MODEL_SOURCE', 'SERVED_MODEL_NAME', 'VLLM_PORT', 'VLLM_VERSION', 'VLLM_ARGS'] as const;

/** A resource label: accelerator (`H100:1`), cloud, region. */
export const nodeLabelSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'letters, digits and . _ : - only (at most 64)');
/** A value placed in the node's environment: a Hugging Face id, a path, a served model name. */
export const taskValueSchema = z.string().regex(/^[A-Za-z0-9_./][\w.:/+@-]{0,255}$/, 'letters, digits and _ . : / + @ - only (at most 256), not starting with -');

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name such as HF_TOKEN')
  .refine((name) => !(RESERVED_ENV_NAMES as readonly string[]).includes(name), 'CIC sets this variable itself');
const vllmArg = z.string().max(512)
  .refine((arg) => VLLM_FLAG.test(arg) || VLLM_VALUE.test(arg), 'a vLLM argument is a flag (--name) or a value of letters, digits and _ . , : = / + { } [ ] " - (no spaces)')
  .refine((arg) => !RESERVED_VLLM_FLAGS.has(arg.split('=')[0]!), 'CIC sets --api-key, --host, --port and --served-model-name itself');

/**
 * The provider-specific settings kept in `nodes.config` (JSON). Never secret values: secrets are
 * listed by name (`secretEnvNames`) and read from the worker's environment when the node is launched.
 */
export const nodeConfigSchema = z.object({
  /** What vLLM loads (a Hugging Face repo id or path). @defaultValue the served model name */
  modelSource: taskValueSchema.optional(),
  /** Port vLLM listens on inside the cluster. @defaultValue 8000 */
  port: z.number().int().min(1).max(65535).default(8000),
  /** Boot disk in GB. @defaultValue 256 */
  diskSize: z.number().int().min(10).max(65_536).default(256),
  /** Extra `vllm serve` arguments, e.g. ["--max-model-len", "8192"]. */
  vllmArgs: z.array(vllmArg).max(64).default([]),
  /** Environment variables passed to the cluster by name (values come from the worker's env). @defaultValue ["HF_TOKEN"] */
  secretEnvNames: z.array(envName).max(32).default(['HF_TOKEN']),
  /** vLLM version installed on the cluster. @defaultValue "0.11.0" */
  vllmVersion: z.string().regex(/^[0-9][0-9A-Za-z.+-]{0,63}$/, 'a version such as 0.11.0').default('0.11.0'),
  /** STATIC only: base URL of the already running vLLM server. */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** LOCAL only: pid of the simulator child, so reconcile can tell whether it still runs. */
  localPid: z.number().int().optional(),
}).loose();

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/** A node's stored config does not parse: retrying cannot help, so its launch fails at once. */
export class InvalidNodeConfigError extends Error {
  override name = 'InvalidNodeConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid node config: ${issues.join('; ')}`);
  }
}

/** Parses a node's config JSON; throws InvalidNodeConfigError, with a readable message, when it is invalid. */
export function parseNodeConfig(json: unknown): NodeConfig {
  const parsed = nodeConfigSchema.safeParse(json ?? {});
  if (!parsed.success) throw new InvalidNodeConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return parsed.data;
}
