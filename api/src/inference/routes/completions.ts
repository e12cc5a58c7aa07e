import type { RouteGroup } from '../../http/router.ts';
import { estimateCompletionPromptTokens, maxCompletionTokens } from '../estimate-tokens.ts';
import type { InferenceDeps } from '../inference-deps.ts';
import { completionRequest, type CompletionRequest } from '../request-schemas.ts';
import { serveCompletion } from '../serve-completion.ts';

/**
 * POST /v1/completions: OpenAI's legacy text completions, streamed (SSE) or whole, proxied and metered
 * like chat completions. Request: {@link completionRequest}; response: vLLM's, relayed unchanged.
 */
export function registerCompletions(v1: RouteGroup, deps: InferenceDeps): void {
  v1.on('POST', '/v1/completions', serveCompletion<CompletionRequest>({ path: '/v1/completions', maxCompletionTokens, schema: completionRequest, estimatePromptTokens: estimateCompletionPromptTokens }, deps));
}
