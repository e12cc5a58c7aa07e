import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { SimulatorContext } from './context.ts';
import { badRequest, engineDead, modelNotFound, sendJson } from './errors.ts';
import { createRandom } from './prng.ts';
import { validate } from './request-schema.ts';
import { tokenize } from './tokenizer.ts';

const tokenIds = z.array(z.number().int().min(0)).min(1);
// vLLM's EmbeddingCompletionRequest: a string, strings, token ids or lists of token ids.
const embeddingBody = z.looseObject({
  model: z.string().nullish(),
  input: z.union([z.string(), z.array(z.string()).min(1), tokenIds, z.array(tokenIds).min(1)]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().nullish(),
  user: z.string().nullish(),
});

/**
 * POST /v1/embeddings. A real vLLM serves it only for a pooling model; the simulator serves it next to
 * chat, so one node can stand in for both. The vector is a pure function of the input (text or token
 * ids): unit norm, float32 values, so the float and base64 encodings decode to the same numbers.
 * Pooling is one forward pass, so it skips the generation slots and is counted as a finished request.
 */
export function serveEmbeddings(ctx: SimulatorContext, res: ServerResponse, body: unknown, arrivedAt: number): void {
  const { options, counters, metrics } = ctx;
  counters.requests++;
  if (!ctx.engine.alive) throw engineDead();
  const data = validate(embeddingBody, body);
  const model = data.model ?? options.model;
  if (model !== options.model) throw modelNotFound(model);
  const dimensions = data.dimensions ?? undefined;
  if (dimensions !== undefined) {
    if (!options.matryoshka) {
      throw badRequest(
        `Model "${model}" does not support matryoshka representation, changing output dimensions will lead to poor results.`,
        'dimensions',
      );
    }
    if (dimensions < 1 || dimensions > options.embeddingDimensions) {
      throw badRequest(`Dimensions must be between 1 and ${options.embeddingDimensions}.`, 'dimensions');
    }
  }
  const inputs: Array<{ key: string; tokens: number }> = toInputs(data.input);
  for (const { tokens } of inputs) {
    if (tokens > options.maxModelLen) {
      throw badRequest(
        `This model's maximum context length is ${options.maxModelLen} tokens. However, you requested ` +
          `${tokens} tokens in the input for embedding generation. Please reduce the length of the input.`,
      );
    }
  }
  const promptTokens = inputs.reduce((sum, input) => sum + input.tokens, 0);
  const base64 = data.encoding_format === 'base64';
  const embeddings = inputs.map(({ key }, index) => {
    const vector = embeddingOf(key, options.embeddingDimensions, dimensions);
    return {
      index,
      object: 'embedding',
      embedding: base64 ? littleEndianFloat32(vector).toString('base64') : [...vector],
    };
  });
  metrics.recordPrefill(promptTokens, 0);
  metrics.recordFinished({
    reason: 'stop',
    e2eSeconds: (performance.now() - arrivedAt) / 1000,
    promptTokens,
    generationTokens: 0,
  });
  counters.completed++;
  sendJson(res, 200, {
    id: `embd-${randomBytes(16).toString('hex')}`,
    object: 'list',
    created: Math.floor(Date.now() / 1000),
    model,
    data: embeddings,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0, prompt_tokens_details: null },
  });
}

type EmbeddingInput = z.output<typeof embeddingBody>['input'];

function toInputs(input: EmbeddingInput): Array<{ key: string; tokens: number }> {
  const text = (value: string) => ({ key: `text:${value}`, tokens: tokenize(value).length });
  const ids = (value: number[]) => ({ key: `ids:${value.join(',')}`, tokens: value.length });
  if (typeof input === 'string') return [text(input)];
  if (input.every((item) => typeof item === 'string')) return input.map(text);
  if (input.every((item) => typeof item === 'number')) return [ids(input)];
  return (input as number[][]).map(ids);
}

/**
 * Unit norm, rounded to float32 as a model's output is. Matryoshka truncation keeps the leading
 * values and normalises again, as vLLM does.
 */
function embeddingOf(key: string, size: number, dimensions: number | undefined): Float32Array {
  const random = createRandom(createHash('sha256').update(key).digest().readUInt32LE(0));
  // Uniform values, centred: any direction is as good as another for a stand-in.
  const values = Array.from({ length: size }, () => random.next() * 2 - 1).slice(0, dimensions ?? size);
  const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0)) || 1;
  return Float32Array.from(values, (value) => value / norm);
}

/** vLLM's base64 encoding: the float32 values' bytes, little-endian whatever the host's order. */
function littleEndianFloat32(vector: Float32Array): Buffer {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes;
}
