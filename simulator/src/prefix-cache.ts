import { createHash } from 'node:crypto';

/** vLLM's default KV block size: the prefix cache only matches whole blocks. */
const BLOCK_TOKENS = 16;

/**
 * An LRU of hashed token blocks, chained so a block only matches after the same prefix,
 * which makes `vllm:prefix_cache_hits_total` respond to shared system prompts as it would.
 */
export interface PrefixCache {
  /** Returns how many leading prompt tokens were cached, then caches the prompt's blocks. */
  lookupAndInsert(tokens: readonly string[]): number;
}

export function createPrefixCache(capacityTokens: number): PrefixCache {
  const capacityBlocks = Math.max(1, Math.floor(capacityTokens / BLOCK_TOKENS));
  const blocks = new Map<string, true>();

  return {
    lookupAndInsert(tokens) {
      let parent = '';
      let hits = 0;
      let matching = true;
      // The last token is always recomputed (its logits are needed), as in vLLM.
      const fullBlocks = Math.floor(Math.max(0, tokens.length - 1) / BLOCK_TOKENS);
      for (let block = 0; block < fullBlocks; block++) {
        const slice = tokens.slice(block * BLOCK_TOKENS, (block + 1) * BLOCK_TOKENS);
        parent = createHash('sha1').update(parent).update('\u0000').update(slice.join('\u0001')).digest('hex');
        if (matching && blocks.has(parent)) {
          hits += BLOCK_TOKENS;
          blocks.delete(parent);
        } else {
          matching = false;
        }
        blocks.set(parent, true);
        if (blocks.size > capacityBlocks) {
          const oldest = blocks.keys().next().value;
          if (oldest !== undefined) blocks.delete(oldest);
        }
      }
      return hits;
    },
  };
}
