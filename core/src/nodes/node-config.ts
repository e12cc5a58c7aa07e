import { z } from 'zod';

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name such as HF_TOKEN');
// One line each: they are placed inside the task's shell script.
const vllmArg = z.string().min(1).regex(/^[^\n\r]*$/, 'a vLLM argument cannot contain a line break');

/**
 * The provider-specific settings kept in `nodes.config` (JSON). Never secret values: secrets are
 * listed by name (`secretEnvNames`) and read from the worker's environment when the node is launched.
 */
export const nodeConfigSchema = z.object({
  /** What vLLM loads (a Hugging Face repo id or path). @defaultValue the served model name */
  modelSource: z.string().min(1).optional(),
  /** Port vLLM listens on inside the cluster. @defaultValue 8000 */
  port: z.number().int().min(1).max(65535).default(8000),
  /** Boot disk in GB. @defaultValue 256 */
  diskSize: z.number().int().min(10).default(256),
  /** Extra `vllm serve` arguments, e.g. ["--max-model-len", "8192"]. */
  vllmArgs: z.array(vllmArg).default([]),
  /** Environment variables passed to the cluster by name (values come from the worker's env). @defaultValue ["HF_TOKEN"] */
  secretEnvNames: z.array(envName).default(['HF_TOKEN']),
  /** vLLM version installed on the cluster. @defaultValue "0.11.0" */
  vllmVersion: z.string().regex(/^[0-9A-Za-z.+-]+$/).default('0.11.0'),
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
