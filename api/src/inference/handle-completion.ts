import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { AppError, toAppError } from '@cic/core/errors';
import { setHeaders } from '../http/respond.ts';
import type { RequestContext } from '../http/router.ts';
import type { BudgetReservation } from '@cic/core/billing/key-budgets';
import { authenticateRequest } from './authenticate-request.ts';
import type { InferenceDeps } from './inference-deps.ts';
import { costMicros, keyMayCall, modelNotFound, requestUser } from './key-spend.ts';
import { proxyCompletion, type ProxyOutcome } from './proxy-completion.ts';
import type { RateDecision } from './rate-limiter.ts';
import { readJsonBody } from './read-json-body.ts';
import { parseRequest, type ProxiedRequest } from './request-schemas.ts';
import { withStreamUsage } from './splice-json.ts';
import { newUsageId, type UsageRecordMessage } from './usage-record.ts';

/** What tells the proxied endpoints apart. */
export interface CompletionEndpoint<B extends ProxiedRequest> {
  path: '/v1/chat/completions' | '/v1/completions' | '/v1/embeddings';
  schema: z.ZodType<B>;
  /**
   * Completion tokens the request may generate, reserved against TPM up front (`fallback` when unbounded);
   * absent for an endpoint that generates none (embeddings: nothing reserved or metered for completion).
   */
  maxCompletionTokens?(body: B, fallback: number): number;
  /** Prompt tokens counted up front (rate limit; usage when vLLM reports none). */
  estimatePromptTokens(body: B): number;
}

/** How a completion request ended: all its metrics and its usage record read this. */
export interface CompletionOutcome {
  /** The `model` label: the requested name when a served model has it, else `unknown`. */
  modelLabel: string;
  /** The key's organization once authenticated (the metrics' `organization` label). */
  organizationId: string | undefined;
  /** HTTP status of the answer (499: the client left before it). */
  status: number;
  /** An error not answered yet (nothing was sent): the router renders it. */
  error: unknown;
  /** Set for every request the rate limiter admitted: its one usage record. */
  metered: MeteredCompletion | undefined;
}

export interface MeteredCompletion {
  record: UsageRecordMessage;
  /** Real tokens minus those reserved, for the key's TPM window; null when the limiter failed open. */
  tokenCorrection: { keyId: string; delta: number } | null;
  durationSeconds: number;
  /** Arrival to the first streamed byte; undefined for whole answers and streams that sent none. */
  ttftSeconds: number | undefined;
}

/**
 * POST /v1/chat/completions, /v1/completions and /v1/embeddings: authenticate, validate, take the rate
 * limit, check credits, proxy. Never throws: a refusal before the limiter admitted the request comes back unmetered,
 * anything after it with its usage record.
 */
export async function handleCompletion<B extends ProxiedRequest>(
  endpoint: CompletionEndpoint<B>, deps: InferenceDeps, req: IncomingMessage, res: ServerResponse, ctx: RequestContext,
): Promise<CompletionOutcome> {
  const started = performance.now();
  const startedAt = new Date();
  const { settings, registry } = deps;
  let modelLabel = 'unknown';
  let organizationId: string | undefined;
  /** The key budget's hold on this request, settled once by its usage record (or released on a refusal). */
  let budget = null as BudgetReservation | null;
  try {
    const key = await authenticateRequest(req, deps.keys);
    organizationId = key.organizationId;
    const { raw, value } = await readJsonBody({ req, limitBytes: settings.INFERENCE_MAX_BODY_BYTES, maxDepth: settings.INFERENCE_MAX_JSON_DEPTH });
    const body = parseRequest(endpoint.schema, value);
    const user = requestUser(value);
    const promptEstimate = endpoint.estimatePromptTokens(body);
    // Metrics label: only names of served models, so arbitrary input cannot grow the series.
    const known = registry.model(body.model) !== undefined || registry.nodesFor(body.model).length > 0;
    if (known) modelLabel = body.model;
    const reserved = promptEstimate + (endpoint.maxCompletionTokens?.(body, settings.INFERENCE_DEFAULT_MAX_TOKENS) ?? 0);

    const limits = key.limits;
    // More than a whole minute's tokens can never be admitted: a 429 with Retry-After would make SDKs retry forever.
    if (reserved > limits.tpm) {
      const param = 'max_completion_tokens' in body && body.max_completion_tokens != null ? 'max_completion_tokens' : body.max_tokens != null ? 'max_tokens' : null;
      throw new AppError('BAD_REQUEST', `This request needs up to ${reserved} tokens, more than this key's limit of ${limits.tpm} tokens per minute; lower ${param ?? 'the prompt'}.`, {
        param, detail: 'invalid_value',
      });
    }
    // The record's id is made now: the limiter's script journals the admission under it (admission-journal.ts).
    const usageId = newUsageId();
    const { decision: admission, progress } = deps.admissions.acquire(deps.rateLimiter, key.id, limits, reserved, {
      id: usageId, requestId: ctx.requestId, organizationId: key.organizationId, apiKeyId: key.id, modelName: body.model, endpoint: endpoint.path,
      stream: body.stream === true, promptTokens: promptEstimate, user, startedAt: startedAt.toISOString(),
    });
    // A key far from its limits is dispatched while the limiter answers; the answer is awaited before the
    // first byte goes back to the client (and a refusal aborts the upstream call). Others wait here.
    const speculate = deps.rateLimiter.likelyAllows(key.id, limits, reserved);
    const admit = async (): Promise<RateDecision> => {
      const decision = await admission;
      // On whatever answer follows: the proxied one or an error.
      setHeaders(res, decision.headers);
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

    const meter = (proxied: ProxyOutcome, failedOpen: boolean): MeteredCompletion => {
      const ended = performance.now();
      const u = proxied.usage;
      // An embedding's usage has no completion_tokens: there are none.
      const generates = endpoint.maxCompletionTokens !== undefined;
      const reportedCompletion = generates ? u?.completion_tokens : u && 0;
      const estimated = u?.prompt_tokens === undefined || reportedCompletion === undefined;
      const promptTokens = u?.prompt_tokens ?? (proxied.promptProcessed ? promptEstimate : 0);
      const completionTokens = reportedCompletion ?? (generates ? proxied.tokenEvents : 0);
      budget?.settle(costMicros(registry.model(body.model), promptTokens, completionTokens));
      const record: UsageRecordMessage = {
        id: usageId,
        requestId: ctx.requestId,
        organizationId: key.organizationId,
        apiKeyId: key.id,
        modelName: body.model,
        nodeId: proxied.nodeId,
        endpoint: endpoint.path,
        stream: body.stream === true,
        promptTokens,
        completionTokens,
        cachedTokens: u?.prompt_tokens_details?.cached_tokens ?? 0,
        estimated: estimated && (promptTokens > 0 || completionTokens > 0),
        ttftMs: proxied.firstByteAt === undefined ? null : Math.round(proxied.firstByteAt - started),
        durationMs: Math.round(ended - started),
        status: proxied.status,
        outcome: proxied.outcome,
        errorCode: proxied.errorCode,
        user,
        startedAt: startedAt.toISOString(),
        endedAt: Date.now(),
      };
      return {
        record,
        tokenCorrection: failedOpen ? null : { keyId: key.id, delta: promptTokens + completionTokens - reserved },
        durationSeconds: (ended - started) / 1000,
        ttftSeconds: proxied.firstByteAt !== undefined && body.stream === true ? (proxied.firstByteAt - started) / 1000 : undefined,
      };
    };

    // Admitted (or about to be): from here on, exactly one usage record per admitted request.
    let proxied: ProxyOutcome;
    try {
      // A model limited to other organizations answers exactly as one that does not exist.
      if (!registry.usableBy(body.model, key.organizationId) || !keyMayCall(key, body.model)) throw modelNotFound(body.model);
      await deps.creditGate.assertCanSpend(key.organizationId);
      budget = await deps.keyBudgets.reserve(key.id, key.budgets, costMicros(registry.model(body.model), promptEstimate, reserved - promptEstimate));
      const stream = body.stream === true;
      // The client's bytes, with only stream_options.include_usage set when streaming (never re-serialised).
      const upstreamBody = stream ? withStreamUsage(raw) : raw;
      proxied = await proxyCompletion({ deps, res, ctx, model: body.model, path: endpoint.path, body: upstreamBody, stream, stripUsage: stream && body.stream_options?.include_usage !== true, admit, signal, progress });
    } catch (err) {
      const appError = toAppError(err);
      // A refusal by the limiter is not metered; any other error is, once the request is known admitted.
      if (appError.code === 'RATE_LIMITED') throw err;
      if (speculate) await admit();
      const failed: ProxyOutcome = {
        status: appError.status, nodeId: null, usage: undefined, tokenEvents: 0, firstByteAt: undefined, outcome: 'ERROR',
        errorCode: appError.detail ?? appError.code.toLowerCase(), promptProcessed: false, error: appError,
      };
      return { modelLabel, organizationId, status: appError.status, error: err, metered: meter(failed, (await admission).failedOpen) };
    }
    // An early-dispatched request that the limiter refused ends here with its 429, unmetered.
    if (speculate && !res.headersSent) await admit();
    return { modelLabel, organizationId, status: proxied.status, error: proxied.error, metered: meter(proxied, (await admission).failedOpen) };
  } catch (err) {
    // Refused before the limiter admitted it (401, 400, 413, 429…): counted, not metered.
    budget?.settle(0);
    return { modelLabel, organizationId, status: toAppError(err).status, error: err, metered: undefined };
  }
}
