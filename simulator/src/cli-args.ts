import { parseArgs } from 'node:util';
import {
  FAILURE_TYPES,
  type FailureType,
  type ResolvedSimulatorOptions,
  type SimulatorOptions,
  parseSimulatorOptions,
} from './options.ts';

type Kind = 'string' | 'number' | 'boolean' | 'failure-types';

/**
 * vLLM-style flag → option. Each flag can also come from `SIM_<FLAG_IN_SNAKE_CASE>`, or from the
 * variable `env` names (vLLM reads its API key from `VLLM_API_KEY`, so the simulator does too).
 */
const FLAGS: Record<string, { key: keyof SimulatorOptions; kind: Kind; env?: string }> = {
  model: { key: 'model', kind: 'string' },
  host: { key: 'host', kind: 'string' },
  port: { key: 'port', kind: 'number' },
  'max-model-len': { key: 'maxModelLen', kind: 'number' },
  'max-num-seqs': { key: 'maxNumSeqs', kind: 'number' },
  'max-waiting': { key: 'maxWaiting', kind: 'number' },
  'ttft-ms': { key: 'ttftMs', kind: 'number' },
  'ttft-spread-ms': { key: 'ttftSpreadMs', kind: 'number' },
  'itl-ms': { key: 'itlMs', kind: 'number' },
  'itl-spread-ms': { key: 'itlSpreadMs', kind: 'number' },
  'load-factor': { key: 'loadFactor', kind: 'number' },
  mode: { key: 'mode', kind: 'string' },
  'output-tokens': { key: 'outputTokens', kind: 'number' },
  'failure-rate': { key: 'failureRate', kind: 'number' },
  'failure-types': { key: 'failureTypes', kind: 'failure-types' },
  'enable-force-include-usage': { key: 'enableForceIncludeUsage', kind: 'boolean' },
  seed: { key: 'seed', kind: 'number' },
  'api-key': { key: 'apiKey', kind: 'string', env: 'VLLM_API_KEY' },
  'enable-control-routes': { key: 'enableControlRoutes', kind: 'boolean' },
  'record-requests': { key: 'recordRequests', kind: 'boolean' },
  'embedding-dimensions': { key: 'embeddingDimensions', kind: 'number' },
  matryoshka: { key: 'matryoshka', kind: 'boolean' },
  'enable-auto-tool-choice': { key: 'enableAutoToolChoice', kind: 'boolean' },
  'tool-call-parser': { key: 'toolCallParser', kind: 'string' },
};

/**
 * vLLM flags that tune the GPU engine, not the wire format. A model's launch settings carry them and a
 * LOCAL node passes them on, so the simulator accepts them, as `vllm serve` does, and ignores them.
 * Any other unknown flag is still an error, as on vLLM.
 */
const ENGINE_FLAGS: Record<string, 'string' | 'boolean'> = {
  'gpu-memory-utilization': 'string', 'tensor-parallel-size': 'string', 'pipeline-parallel-size': 'string',
  dtype: 'string', quantization: 'string', 'kv-cache-dtype': 'string', 'max-num-batched-tokens': 'string',
  'swap-space': 'string', 'download-dir': 'string', revision: 'string', tokenizer: 'string', 'chat-template': 'string',
  'reasoning-parser': 'string', 'generation-config': 'string', 'trust-remote-code': 'boolean', 'enforce-eager': 'boolean',
  'enable-prefix-caching': 'boolean', 'enable-chunked-prefill': 'boolean', 'disable-log-requests': 'boolean', 'disable-log-stats': 'boolean',
};

const envName = (flag: string): string => FLAGS[flag]?.env ?? `SIM_${flag.replaceAll('-', '_').toUpperCase()}`;

/**
 * Reads flags (which win) and SIM_* environment variables into validated options.
 * Throws an Error whose message names the offending flag.
 */
export function parseCliOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ResolvedSimulatorOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...Object.fromEntries(
        Object.entries(FLAGS).map(([flag, { kind }]) => [flag, { type: kind === 'boolean' ? 'boolean' : 'string' }]),
      ),
      // vLLM's own spelling of the served name.
      'served-model-name': { type: 'string' },
      ...Object.fromEntries(Object.entries(ENGINE_FLAGS).map(([flag, type]) => [flag, { type }])),
    } as Record<string, { type: 'string' | 'boolean' }>,
  });
  const raw: Record<string, unknown> = {};
  // `vllm serve MODEL`: a bare positional names the model, as with the real CLI.
  const model = values['served-model-name'] ?? values.model ?? positionals[0];
  if (typeof model === 'string') raw.model = model;
  for (const [flag, { key, kind }] of Object.entries(FLAGS)) {
    const value = raw[key] ?? values[flag] ?? env[envName(flag)];
    // vLLM ignores an empty key (`--api-key ''`, `VLLM_API_KEY=`): the server then runs without one.
    if (value === undefined || (key === 'apiKey' && value === '')) continue;
    raw[key] = convert(flag, kind, value);
  }
  try {
    return parseSimulatorOptions(raw as SimulatorOptions);
  } catch (error) {
    const message = (error as Error).message.replace(/option (\w+)/, (_match, key: string) => {
      const flag = Object.entries(FLAGS).find(([, spec]) => spec.key === key)?.[0];
      return flag ? `flag --${flag}` : `option ${key}`;
    });
    throw new Error(message);
  }
}

function convert(flag: string, kind: Kind, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  switch (kind) {
    case 'string':
      return value;
    case 'boolean':
      return ['1', 'true', 'yes'].includes(value.toLowerCase());
    case 'number': {
      const number = value.trim() === '' ? Number.NaN : Number(value);
      if (Number.isNaN(number)) throw new Error(`Invalid simulator flag --${flag}: "${value}" is not a number`);
      return number;
    }
    case 'failure-types': {
      const types = value.split(',').map((type) => type.trim()).filter(Boolean);
      const unknown = types.find((type) => !(FAILURE_TYPES as readonly string[]).includes(type));
      if (unknown) {
        throw new Error(`Invalid simulator flag --${flag}: "${unknown}" (expected ${FAILURE_TYPES.join(', ')})`);
      }
      return types as FailureType[];
    }
  }
}
