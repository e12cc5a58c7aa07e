import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, toAppError } from '@cic/core/errors';
import type { RequestContext } from '../http/router.ts';
import { authenticateRequest } from './authenticate-request.ts';
import { estimateChatPromptTokens, estimateCompletionPromptTokens, maxCompletionTokens } from './estimate-tokens.ts';
import type { InferenceDeps } from './inference-deps.ts';
import { proxyCompletion, type ProxyOutcome } from './proxy-completion.ts';
import { readJsonBody } from './read-json-body.ts';
import { type ChatCompletionRequest, chatCompletionRequest, type CompletionRequest, completionRequest, parseRequest } from './request-schemas.ts';
import type { RateDecision } from './rate-limiter.ts';
import { newUsageId } from './usage-record.ts';

export type CompletionKind = 'chat' | 'completion';

export interface CompletionState {
  headers: Record<string, string>;
  /** The `model` label once the body is read (`unknown` for names no served model has). */
  modelLabel: string;
  /** Set once the request is counted in the metrics with its usage record. */
  counted: boolean;
}

const PATHS: Record<CompletionKind, string> = { chat: '/v1/chat/completions', completion: '/v1/completions' };

/**
 * POST /v1/chat/completions and /v1/completions: authenticate, validate, take the rate limit, check
 * credits, proxy, and meter. Every request the limiter admits ends in exactly one usage record.
 * `state` tells the caller how to answer an error: with which rate-limit headers, and whether the request
 * is still to be counted in cic_inference_requests_total (it is when it was refused before metering).
 */
export async function handleCompletion(kind: CompletionKind, deps: InferenceDeps, req: IncomingMessage, res: ServerResponse, ctx: RequestContext, state: CompletionState): Promise<void> {
  const started = performance.now();
  const startedAt = new Date();
  const { settings, registry, metrics } = deps;
  const key = await authenticateRequest(req, deps.keys);
  const { raw, value } = await readJsonBody({ req, limitBytes: settings.INFERENCE_MAX_BODY_BYTES });
  let body: ChatCompletionRequest | CompletionRequest;
  let promptEstimate: number;
  if (kind === 'chat') {
    const chat = parseRequest(chatCompletionRequest, value);
    promptEstimate = estimateChatPromptTokens(chat);
    body = chat;
  } else {
    const completion = parseRequest(completionRequest, value);
    promptEstimate = estimateCompletionPromptTokens(completion);
    body = completion;
  }
  // Metrics label: only names of served models, so arbitrary input cannot grow the series.
  const known = registry.model(body.model) !== undefined || registry.nodesFor(body.model).length > 0;
  const modelLabel = known ? body.model : 'unknown';
  state.modelLabel = modelLabel;
  const reserved = promptEstimate + maxCompletionTokens(body, settings.INFERENCE_DEFAULT_MAX_TOKENS);

  const limits = key.limits;
  const admission = deps.rateLimiter.acquire(key.id, limits, reserved);
  // A key far from its limits is dispatched while the limiter answers; the answer is awaited before the
  // first byte goes back to the client (and a refusal aborts the upstream call). Others wait here.
  const speculate = deps.rateLimiter.likelyAllows(key.id, limits, reserved);
  const admit = async (): Promise<RateDecision> => {
    const decision = await admission;
    state.headers = decision.headers;
    if (!decision.allowed) {
      const what = decision.kind === 'tokens' ? `tokens per minute (limit ${limits.tpm}, this request needs up to ${reserved})` : `requests per minute (limit ${limits.rpm})`;
      throw new AppError('RATE_LIMITED', `Rate limit reached for ${what}. Please retry after ${decision.retryAfterSeconds}s.`, {
        detail: 'rate_limit_exceeded',
        headers: { 'retry-after': String(decision.retryAfterSeconds) },
      });
    }
    return decision;
  };
  let signal = ctx.signal;
  if (speculate) {
    const refused = new AbortController();
    void admission.then((d) => {
      if (!d.allowed) refused.abort(new Error('refused by the rate limiter'));
    });
    signal = AbortSignal.any([ctx.signal, refused.signal]);
  } else {
    await admit();
  }

  // Admitted (or about to be): from here on, exactly one usage record per admitted request.
  let outcome: ProxyOutcome;
  try {
    if (!known) throw new AppError('NOT_FOUND', `The model '${body.model}' does not exist or you do not have access to it.`, { param: 'model', detail: 'model_not_found' });
    await deps.creditGate.assertCanSpend(key.organizationId);
    const stream = body.stream === true;
    const upstreamBody = stream
      ? JSON.stringify({ ...(value as object), stream_options: { ...body.stream_options, include_usage: true } })
      : raw;
    outcome = await proxyCompletion({ deps, res, ctx, model: body.model, path: PATHS[kind], body: upstreamBody, stream, stripUsage: stream && body.stream_options?.include_usage !== true, admit, signal });
  } catch (err) {
    const appError = toAppError(err);
    // A refusal by the limiter is not metered; any other error is, once the request is known admitted.
    if (appError.code === 'RATE_LIMITED') throw appError;
    if (speculate) await admit();
    outcome = { status: appError.status, nodeId: null, usage: undefined, tokenEvents: 0, firstByteAt: undefined, outcome: 'ERROR', errorCode: appError.detail ?? appError.code.toLowerCase(), promptProcessed: false };
    recordUsage((await admission).failedOpen);
    throw appError;
  }
  // An early-dispatched request that the limiter refused ends here with its 429, unmetered.
  if (speculate && !res.headersSent) await admit();
  const decision = await admission;
  if (decision.allowed) recordUsage(decision.failedOpen);

  function recordUsage(failedOpen: boolean): void {
    const ended = performance.now();
    const u = outcome.usage;
    const estimated = u?.prompt_tokens === undefined || u.completion_tokens === undefined;
    const promptTokens = u?.prompt_tokens ?? (outcome.promptProcessed ? promptEstimate : 0);
    const completionTokens = u?.completion_tokens ?? outcome.tokenEvents;
    state.counted = true;
    metrics.requests.inc({ model: modelLabel, status: String(outcome.status) });
    metrics.duration.observe({ model: modelLabel }, (ended - started) / 1000);
    if (outcome.firstByteAt !== undefined && body.stream === true) metrics.ttft.observe({ model: modelLabel }, (outcome.firstByteAt - started) / 1000);
    if (promptTokens > 0) metrics.tokens.inc({ model: modelLabel, type: 'prompt' }, promptTokens);
    if (completionTokens > 0) metrics.tokens.inc({ model: modelLabel, type: 'completion' }, completionTokens);
    deps.usage.record(
      {
        id: newUsageId(),
        requestId: ctx.requestId,
        organizationId: key.organizationId,
        apiKeyId: key.id,
        modelName: body.model,
        nodeId: outcome.nodeId,
        endpoint: PATHS[kind],
        stream: body.stream === true,
        promptTokens,
        completionTokens,
        cachedTokens: u?.prompt_tokens_details?.cached_tokens ?? 0,
        estimated: estimated && (promptTokens > 0 || completionTokens > 0),
        ttftMs: outcome.firstByteAt === undefined ? null : Math.round(outcome.firstByteAt - started),
        durationMs: Math.round(ended - started),
        status: outcome.status,
        outcome: outcome.outcome,
        errorCode: outcome.errorCode,
        startedAt: startedAt.toISOString(),
        endedAt: Date.now(),
      },
      failedOpen ? null : { keyId: key.id, delta: promptTokens + completionTokens - reserved },
    );
  }
}
