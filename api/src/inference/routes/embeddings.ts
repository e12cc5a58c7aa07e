import type { RouteGroup } from '../../http/router.ts';
import { estimateEmbeddingInputTokens } from '../estimate-tokens.ts';
import type { InferenceDeps } from '../inference-deps.ts';
import { embeddingRequest } from '../request-schemas.ts';
import { serveCompletion } from '../serve-completion.ts';

/**
 * POST /v1/embeddings: OpenAI's embeddings (float or base64), proxied to a node serving the model and
 * metered on its prompt tokens alone; never streamed. Request: {@link embeddingRequest}; response: vLLM's,
 * relayed byte for byte.
 */
export function registerEmbeddings(v1: RouteGroup, deps: InferenceDeps): void {
  v1.on('POST', '/v1/embeddings', serveCompletion({ path: '/v1/embeddings', schema: embeddingRequest, estimatePromptTokens: estimateEmbeddingInputTokens }, deps));
}
