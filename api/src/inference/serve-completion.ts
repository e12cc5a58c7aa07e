import type { Handler } from '../http/router.ts';
import { type CompletionEndpoint, type CompletionOutcome, handleCompletion } from './handle-completion.ts';
import type { InferenceDeps } from './inference-deps.ts';
import type { ProxiedRequest } from './request-schemas.ts';

/** Counts the request and queues its usage record, both from its outcome. */
function recordOutcome({ metrics, usage }: InferenceDeps, outcome: CompletionOutcome): void {
  const model = outcome.modelLabel;
  const organization = metrics.organizations.labelOf(outcome.organizationId);
  metrics.requests.inc({ model, status: String(outcome.status), organization });
  const metered = outcome.metered;
  if (!metered) return;
  const { record } = metered;
  metrics.duration.observe({ model }, metered.durationSeconds);
  if (metered.ttftSeconds !== undefined) metrics.ttft.observe({ model }, metered.ttftSeconds);
  if (record.promptTokens > 0) metrics.tokens.inc({ model, type: 'prompt', organization }, record.promptTokens);
  if (record.completionTokens > 0) metrics.tokens.inc({ model, type: 'completion', organization }, record.completionTokens);
  usage.record(record, metered.tokenCorrection);
}

/**
 * The route handler of a proxied endpoint (completions, embeddings): handles the request, records what its outcome says, then
 * hands an unanswered error to the router, which answers it in the /v1 group's shape (OpenAI's).
 */
export function serveCompletion<B extends ProxiedRequest>(endpoint: CompletionEndpoint<B>, deps: InferenceDeps): Handler {
  return async (req, res, ctx) => {
    const outcome = await handleCompletion(endpoint, deps, req, res, ctx);
    recordOutcome(deps, outcome);
    if (outcome.error !== undefined) throw outcome.error;
  };
}
