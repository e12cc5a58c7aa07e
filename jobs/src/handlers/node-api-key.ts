import type { Node } from '@cic/db';
import { generateNodeApiKey, NodeSecretError } from '@cic/core/nodes/node-secret';
import { ProviderError } from '../providers/types.ts';
import type { JobContext } from './job-context.ts';

/** Opens a node's stored key (null: the node has none); a key sealed under another NODE_SECRET_KEY is a ProviderError. */
export function openNodeApiKey(ctx: Pick<JobContext, 'nodeSecrets'>, sealed: string | null): string | null {
  if (!sealed) return null;
  try {
    return ctx.nodeSecrets.open(sealed);
  } catch (err) {
    if (err instanceof NodeSecretError) throw new ProviderError(`the node's API key cannot be read: ${err.message}`);
    throw err;
  }
}

/**
 * The key vLLM will require on the node (VLLM_API_KEY), for the provider and the probes. A SKYPILOT or
 * LOCAL node gets 256 random bits on its first launch attempt, stored sealed; a retried or resumed
 * launch reuses it (compare-and-set on the empty column, so two attempts cannot store two keys). A
 * STATIC node has the key its admin gave, or none.
 */
export async function nodeApiKeyFor(ctx: Pick<JobContext, 'prisma' | 'nodeSecrets'>, node: Pick<Node, 'id' | 'provider' | 'apiKeyCiphertext'>): Promise<string | null> {
  if (node.apiKeyCiphertext || node.provider === 'STATIC') return openNodeApiKey(ctx, node.apiKeyCiphertext);
  await ctx.prisma.node.updateMany({ where: { id: node.id, apiKeyCiphertext: null }, data: { apiKeyCiphertext: ctx.nodeSecrets.seal(generateNodeApiKey()) } });
  const { apiKeyCiphertext } = await ctx.prisma.node.findUniqueOrThrow({ where: { id: node.id }, select: { apiKeyCiphertext: true } });
  return openNodeApiKey(ctx, apiKeyCiphertext);
}
