import type { NodeConfig } from '@cic/core/nodes/node-config';
import { nodeConfigSchema, nodeLabelSchema, taskValueSchema } from '@cic/core/nodes/node-config';
import { stringify } from 'yaml';
import { z } from 'zod';
import { ProviderError } from '../types.ts';

/** The variable vLLM reads its API key from (instead of `--api-key`, which would show in `ps` on the node). */
export const NODE_API_KEY_ENV = 'VLLM_API_KEY';

/**
 * The same for every node: all per-node values arrive as environment variables (`envs:` and `secrets:`),
 * never spliced into the script. VLLM_ARGS holds allow-listed arguments without spaces or quotes;
 * globbing is off (`set -f`), so word splitting gives them back exactly. vLLM must not start without its key.
 */
const RUN = `set -euf
: "\${${NODE_API_KEY_ENV}:?the node API key was not passed: refusing to start vLLM without one}"
exec vllm serve "$MODEL_SOURCE" --served-model-name "$SERVED_MODEL_NAME" --host 0.0.0.0 --port "$VLLM_PORT" $VLLM_ARGS
`;
const SETUP = `set -eu
pip install "vllm==$VLLM_VERSION"
`;

const renderTaskInput = z.object({
  /** SkyPilot's own rule for cluster names. */
  cluster: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a cluster name is lowercase letters, digits and -'),
  servedModelName: taskValueSchema,
  accelerator: nodeLabelSchema.nullable(),
  cloud: nodeLabelSchema.nullable(),
  region: nodeLabelSchema.nullable(),
  /** Secrets SkyPilot copies from the worker's environment (`sky launch --secret NAME`); the node's key is added. */
  secretNames: z.array(z.string().regex(/^[A-Z_][A-Z0-9_]*$/)),
  config: nodeConfigSchema,
});

export type RenderTaskOptions = z.input<typeof renderTaskInput> & { config: NodeConfig };

/** Raised when a node's values cannot go into a task: the launch fails at once (retrying cannot help). */
export class TaskRenderError extends ProviderError {
  override name = 'TaskRenderError';
}

/**
 * The SkyPilot task for one node, built as data and printed by the `yaml` library (YAML 1.1, the dialect
 * of SkyPilot's PyYAML: `on`, `yes`, `1:20` come out quoted). Every value is checked against an
 * allow-list first, and the output must be printable ASCII: PyYAML also breaks lines on U+0085, U+2028
 * and U+2029, which a YAML 1.2 printer leaves unescaped. No `ports:` (the vLLM port is not opened to the
 * internet; CIC reaches the node on its cluster IP) and no secret value: secrets are declared by name.
 */
export function renderTask(options: RenderTaskOptions): string {
  const parsed = renderTaskInput.safeParse(options);
  if (!parsed.success) {
    throw new TaskRenderError(`cannot render the SkyPilot task: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const { cluster, servedModelName, accelerator, cloud, region, secretNames, config } = parsed.data;
  const task = {
    name: cluster,
    resources: {
      accelerators: accelerator ?? 'H100:1',
      ...(cloud ? { cloud } : {}),
      ...(region ? { region } : {}),
      disk_size: config.diskSize,
    },
    envs: {
      MODEL_SOURCE: config.modelSource ?? servedModelName,
      SERVED_MODEL_NAME: servedModelName,
      VLLM_PORT: String(config.port),
      VLLM_VERSION: config.vllmVersion,
      VLLM_ARGS: config.vllmArgs.join(' '),
    },
    // null: the value must come from `sky launch --secret NAME` (the worker's environment).
    secrets: Object.fromEntries([NODE_API_KEY_ENV, ...secretNames.filter((n) => n !== NODE_API_KEY_ENV)].map((name) => [name, null])),
    setup: SETUP,
    run: RUN,
  };
  const text = `# SkyPilot task for CIC node cluster ${cluster} (jobs/src/providers/skypilot/render-task.ts)\n${stringify(task, { version: '1.1', lineWidth: 0 })}`;
  const stray = /[^\n\x20-\x7e]/.exec(text);
  if (stray) throw new TaskRenderError(`cannot render the SkyPilot task: character U+${stray[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is not allowed`);
  return text;
}
