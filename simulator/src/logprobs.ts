import type { Random } from './prng.ts';

/** Candidates for the runner-up tokens; vLLM caps top logprobs at 20 (`--max-logprobs`). */
const ALTERNATIVES = [
  ' the', ' a', ' and', ',', '.', ' of', ' to', ' in', ' is', ' it', ' that',
  ' for', ' on', ' with', ' as', ' was', ' at', ' by', ' be', ' this', ' or',
];
export const MAX_LOGPROBS = 20;

export interface TokenLogprob {
  token: string;
  logprob: number;
}

/** The sampled token first (the simulator is greedy), then `count - 1` runners-up, each less likely. */
export function topLogprobs(random: Random, token: string, count: number): TokenLogprob[] {
  const top: TokenLogprob[] = [{ token, logprob: -random.next() / 2 }];
  for (const alternative of ALTERNATIVES) {
    if (top.length >= count) break;
    if (alternative === token) continue;
    top.push({ token: alternative, logprob: (top.at(-1)?.logprob ?? 0) - 0.5 - random.next() });
  }
  return top;
}

const bytesOf = (token: string): number[] => [...Buffer.from(token, 'utf8')];

/** One entry of chat's `choices[].logprobs.content`: `top_logprobs` holds `k` entries. */
export function chatLogprob(random: Random, token: string, k: number): object {
  const [sampled, ...rest] = topLogprobs(random, token, Math.max(k, 1));
  const entry = (item: TokenLogprob) => ({ token: item.token, logprob: item.logprob, bytes: bytesOf(item.token) });
  return { ...entry(sampled!), top_logprobs: k === 0 ? [] : [entry(sampled!), ...rest].map(entry) };
}

/** Legacy completions' logprobs for a run of tokens, with `text_offset` counted from `offset` (characters). */
export function completionLogprobs(random: Random, tokens: readonly string[], k: number, offset: number): object {
  const out = { tokens: [] as string[], token_logprobs: [] as number[], top_logprobs: [] as object[], text_offset: [] as number[] };
  let position = offset;
  for (const token of tokens) {
    // vLLM lists the sampled token plus the top k, so at least one entry even for logprobs: 0.
    const top = topLogprobs(random, token, Math.max(k, 1));
    out.tokens.push(token);
    out.token_logprobs.push(top[0]!.logprob);
    out.top_logprobs.push(Object.fromEntries(top.map((item) => [item.token, item.logprob])));
    out.text_offset.push(position);
    position += [...token].length;
  }
  return out;
}
