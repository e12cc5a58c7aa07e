import { randomBytes } from 'node:crypto';
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
import { type FinishReason, type OutputPlan, planOutput } from './output-plan.ts';
import { createRandom } from './prng.ts';
import { type EndpointKind, parseCompletionRequest } from './request-schema.ts';
import { createResponseFormat, usageOf } from './response-format.ts';
import { endWithError } from './sse.ts';
import { type GeneratedToken, streamTokens } from './stream-response.ts';

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
  const request = parseCompletionRequest(kind, body, {
    autoToolChoice: options.enableAutoToolChoice && options.toolCallParser !== undefined,
  });
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
  // Choice i samples with the request's seed + i (or a seed from the server's PRNG), so choices differ.
  const seed = request.seed ?? Math.floor(ctx.random.next() * 2 ** 32);
  const plans = Array.from({ length: request.n }, (_, index) =>
    planOutput({
      mode: options.mode,
      random: createRandom(seed + index),
      echoText: request.echoText,
      maxTokens: request.maxTokens ?? options.maxModelLen - promptTokens,
      outputTokens: options.outputTokens,
      ignoreEos: request.ignoreEos,
      responseFormat: request.responseFormat,
      toolCall: request.toolCall && { ...request.toolCall, id: `chatcmpl-tool-${randomBytes(16).toString('hex')}` },
    }),
  );

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
    const format = createResponseFormat(kind, model, request.logprobs);
    const tokens = generate(ctx, plans, sequence, arrivedAt);
    const longest = Math.max(...plans.map((plan) => plan.tokens.length));
    if (request.stream) {
      const includeUsage = (request.includeUsage ?? false) || options.enableForceIncludeUsage;
      const ending = await streamTokens({
        res,
        format,
        plans,
        tokens,
        promptTokens,
        generated,
        includeUsage,
        continuousUsage: includeUsage && request.continuousUsage,
        cutAfter: failure === 'stream_cut' ? Math.min(CUT_AFTER_TOKENS, longest) : undefined,
        signal: controller.signal,
        onSettled: settle,
      });
      if (ending === 'cut') counters.cut++;
      else outcome = outcomeOf(ending);
    } else {
      const texts = plans.map((): string[] => []);
      for await (const { index, token } of tokens) texts[index]!.push(token);
      settle();
      const choices = plans.map((plan, index) => ({ plan, tokens: texts[index]! }));
      sendJson(res, 200, format.whole(choices, usageOf(promptTokens, generated())));
      outcome = outcomeOf(plans[0]!.finishReason);
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

/** vLLM's engine sees a tool call as a sequence that stopped; finish_reason "tool_calls" is the API's. */
const outcomeOf = (reason: FinishReason): RequestOutcome => (reason === 'tool_calls' ? 'stop' : reason);

/**
 * Yields the planned tokens at the simulated pace, recording TTFT and inter-token latency. The choices
 * of one request decode in the same batch: each step yields the next token of every unfinished choice.
 */
async function* generate(
  ctx: SimulatorContext,
  plans: readonly OutputPlan[],
  sequence: Sequence,
  arrivedAt: number,
): AsyncGenerator<GeneratedToken> {
  const { signal } = sequence.controller;
  const steps = Math.max(...plans.map((plan) => plan.tokens.length));
  if (steps === 0) await pause(ctx.latency.ttftMs(), signal);
  let previous: number | undefined;
  for (let step = 0; step < steps; step++) {
    await pause(previous === undefined ? ctx.latency.ttftMs() : ctx.latency.itlMs(), signal);
    const now = performance.now();
    if (previous === undefined) ctx.metrics.recordFirstToken((now - arrivedAt) / 1000);
    for (const [index, plan] of plans.entries()) {
      const token = plan.tokens[step];
      if (token === undefined) continue;
      ctx.metrics.recordToken(previous === undefined ? undefined : (now - previous) / 1000);
      sequence.kvTokens++;
      yield { index, token };
    }
    previous = now;
  }
}

// A zero delay skips the timer entirely so `--ttft-ms 0 --itl-ms 0` benchmarks the proxy, not setTimeout.
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, { signal });
  else signal.throwIfAborted();
}
