import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientDisconnected, type SimulatorContext } from './context.ts';
import type { Sequence } from './engine.ts';
import {
  OverloadedError,
  SimulatorError,
  contextTooLong,
  engineDead,
  modelNotFound,
  sendError,
  sendJson,
} from './errors.ts';
import { injectedError } from './failure-injection.ts';
import type { RequestOutcome } from './metrics.ts';
import { type OutputPlan, planOutput } from './output-plan.ts';
import { type EndpointKind, parseCompletionRequest } from './request-schema.ts';
import { createResponseFormat, usageOf } from './response-format.ts';
import { endWithError } from './sse.ts';
import { streamTokens } from './stream-response.ts';

/** "A few tokens" before an injected stream_cut drops the connection. */
const CUT_AFTER_TOKENS = 3;

/**
 * POST /v1/chat/completions and /v1/completions: validate as vLLM does, queue for a slot,
 * then generate with simulated timing. `arrivedAt` is performance.now() when the request came in.
 */
export async function serveCompletion(
  ctx: SimulatorContext,
  kind: EndpointKind,
  res: ServerResponse,
  body: unknown,
  arrivedAt: number,
): Promise<void> {
  const { options, engine, metrics, counters } = ctx;
  counters.requests++;
  if (!engine.alive) throw engineDead();
  const request = parseCompletionRequest(kind, body);
  const model = request.model ?? options.model;
  if (model !== options.model) throw modelNotFound(model);
  const promptTokens = request.promptTokens.length;
  const failure = ctx.failures.draw(request.stream);
  if (failure !== undefined && failure !== 'stream_cut') {
    counters.failed++;
    throw injectedError(failure, { model, promptTokens, maxModelLen: options.maxModelLen });
  }
  // vLLM needs room for at least one generated token when max_tokens is left open.
  if (request.maxTokens === undefined && promptTokens >= options.maxModelLen) {
    throw contextTooLong(options.maxModelLen, promptTokens);
  }
  if (request.maxTokens !== undefined && promptTokens + request.maxTokens > options.maxModelLen) {
    throw contextTooLong(options.maxModelLen, promptTokens, request.maxTokens);
  }
  const plan = planOutput({
    mode: options.mode,
    random: ctx.random,
    echoText: request.echoText,
    maxTokens: request.maxTokens ?? options.maxModelLen - promptTokens,
    outputTokens: options.outputTokens,
    ignoreEos: request.ignoreEos,
  });

  const controller = new AbortController();
  let settled = false;
  const settle = (): void => {
    settled = true;
  };
  // 'close' on the response (not the request) is what fires when the client goes away.
  res.on('close', () => {
    if (!settled) controller.abort(new ClientDisconnected());
  });
  const elapsed = (): number => (performance.now() - arrivedAt) / 1000;
  ctx.inflight.add(controller);

  let sequence: Sequence;
  try {
    sequence = await engine.admit({ promptTokens, controller });
  } catch (error) {
    settle();
    ctx.inflight.delete(controller);
    if (error instanceof OverloadedError) counters.rejected++;
    if (!(error instanceof ClientDisconnected)) throw error;
    counters.aborted++;
    metrics.recordFinished({ reason: 'abort', e2eSeconds: elapsed(), promptTokens, generationTokens: 0 });
    return;
  }

  const generated = (): number => sequence.kvTokens - promptTokens;
  let outcome: RequestOutcome = 'abort';
  try {
    metrics.recordScheduled(sequence.queueSeconds);
    metrics.recordPrefill(promptTokens, ctx.prefixCache.lookupAndInsert(request.promptTokens));
    const format = createResponseFormat(kind, model);
    const tokens = generate(ctx, plan, sequence, arrivedAt);
    if (request.stream) {
      const includeUsage = (request.includeUsage ?? false) || options.enableForceIncludeUsage;
      const ending = await streamTokens({
        res,
        format,
        tokens,
        finishReason: plan.finishReason,
        promptTokens,
        generated,
        includeUsage,
        continuousUsage: includeUsage && request.continuousUsage,
        cutAfter: failure === 'stream_cut' ? Math.min(CUT_AFTER_TOKENS, plan.tokens.length) : undefined,
        signal: controller.signal,
        onSettled: settle,
      });
      if (ending === 'cut') counters.cut++;
      else outcome = ending;
    } else {
      let text = '';
      for await (const token of tokens) text += token;
      settle();
      sendJson(res, 200, format.whole(text, plan.finishReason, usageOf(promptTokens, generated())));
      outcome = plan.finishReason;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    const reason: unknown = controller.signal.reason;
    if (reason instanceof ClientDisconnected) counters.aborted++;
    else if (reason instanceof SimulatorError && res.headersSent) endWithError(res, reason.toBody());
    else sendError(res, reason);
  } finally {
    settle();
    engine.release(sequence);
    ctx.inflight.delete(controller);
    if (outcome !== 'abort') counters.completed++;
    metrics.recordFinished({ reason: outcome, e2eSeconds: elapsed(), promptTokens, generationTokens: generated() });
  }
}

/** Yields the planned tokens at the simulated pace, recording TTFT and inter-token latency. */
async function* generate(
  ctx: SimulatorContext,
  plan: OutputPlan,
  sequence: Sequence,
  arrivedAt: number,
): AsyncGenerator<string> {
  const { signal } = sequence.controller;
  if (plan.tokens.length === 0) await pause(ctx.latency.ttftMs(), signal);
  let previous: number | undefined;
  for (const token of plan.tokens) {
    await pause(previous === undefined ? ctx.latency.ttftMs() : ctx.latency.itlMs(), signal);
    const now = performance.now();
    if (previous === undefined) ctx.metrics.recordFirstToken((now - arrivedAt) / 1000);
    ctx.metrics.recordToken(previous === undefined ? undefined : (now - previous) / 1000);
    previous = now;
    sequence.kvTokens++;
    yield token;
  }
}

// A zero delay skips the timer entirely so `--ttft-ms 0 --itl-ms 0` benchmarks the proxy, not setTimeout.
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, { signal });
  else signal.throwIfAborted();
}
