import type { RouteGroup } from '../../http/router.ts';
import { estimateChatPromptTokens, maxCompletionTokens } from '../estimate-tokens.ts';
import type { InferenceDeps } from '../inference-deps.ts';
import { chatCompletionRequest, type ChatCompletionRequest } from '../request-schemas.ts';
import { serveCompletion } from '../serve-completion.ts';

/**
 * POST /v1/chat/completions: OpenAI's chat completions, streamed (SSE) or whole, proxied to the least
 * loaded node serving the model and metered. Request: {@link chatCompletionRequest}; response: vLLM's,
 * relayed unchanged (but for the usage chunk the proxy asked for on the client's behalf).
 */
export function registerChatCompletions(v1: RouteGroup, deps: InferenceDeps): void {
  v1.on('POST', '/v1/chat/completions', serveCompletion<ChatCompletionRequest>({ path: '/v1/chat/completions', maxCompletionTokens, schema: chatCompletionRequest, estimatePromptTokens: estimateChatPromptTokens }, deps));
}
