import type { Dispatcher } from 'undici';
import { AppError } from '@cic/core/errors';
import type { Logger } from '@cic/core/logger';
import type { InferenceMetrics } from './inference-metrics.ts';
import type { NodeLease } from './node-lease.ts';
import type { NodeRegistry, UpstreamNode } from './node-registry.ts';

export interface CallUpstreamOptions {
  registry: NodeRegistry;
  metrics: InferenceMetrics;
  log: Logger;
  model: string;
  /** `/v1/chat/completions` or `/v1/completions`. */
  path: string;
  body: Buffer | string;
  requestId: string;
  signal: AbortSignal;
  maxAttempts: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface UpstreamResponse {
  /** The answering node's lease: the caller releases it once the answer is relayed. */
  lease: NodeLease<UpstreamNode>;
  response: Dispatcher.ResponseData;
}

/** Why an upstream call failed, as the `reason` label of cic_upstream_errors_total. */
export function upstreamReason(err: unknown): 'connect' | 'timeout' | 'aborted' | 'socket' {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'UND_ERR_ABORTED' || (err as Error).name === 'AbortError') return 'aborted';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'ECONNRESET') return 'connect';
  return 'socket';
}

/** Thrown when the client went away before an upstream answered: nothing to send, nothing to retry. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
}

/**
 * Sends the request to the least loaded node serving `model` and returns its response once the status is
 * known. Connect errors and 5xx/429 answers are retried on another node (nothing has reached the client
 * yet); a first-byte timeout is not (the node may still be working), it becomes a 504.
 */
export async function callUpstream(o: CallUpstreamOptions): Promise<UpstreamResponse> {
  const tried = new Set<string>();
  let last: AppError | undefined;
  for (let attempt = 0; attempt < o.maxAttempts; attempt++) {
    const lease = o.registry.acquire(o.model, tried);
    if (!lease) break;
    const { node } = lease;
    tried.add(node.id);
    let response: Dispatcher.ResponseData;
    try {
      response = await node.pool.request({
        path: `${node.basePath}${o.path}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': o.requestId, ...(node.authorization ? { authorization: node.authorization } : {}) },
        body: o.body,
        signal: o.signal,
        headersTimeout: o.firstByteTimeoutMs,
        bodyTimeout: o.idleTimeoutMs,
      });
    } catch (err) {
      const reason = upstreamReason(err);
      if (reason === 'aborted' || o.signal.aborted) {
        lease.release('neutral');
        throw new ClientGoneError('client disconnected before the upstream answered');
      }
      lease.release('failure');
      o.metrics.upstreamErrors.inc({ node: node.id, reason });
      o.log.warn({ nodeId: node.id, reason, err: (err as Error).message, attempt }, 'upstream call failed');
      if (reason === 'timeout') throw new AppError('UPSTREAM_TIMEOUT', 'The model node did not answer in time.', { detail: 'upstream_timeout' });
      last = new AppError('BAD_GATEWAY', 'Could not reach a model node.', { detail: 'upstream_unreachable' });
      continue;
    }
    if (response.statusCode === 401 || response.statusCode === 403) {
      // The node refused CIC's key (a STATIC node with a wrong or missing one): the client's request is fine.
      lease.release('failure');
      await response.body.dump().catch(() => undefined);
      o.metrics.upstreamErrors.inc({ node: node.id, reason: `status_${response.statusCode}` });
      o.log.error({ nodeId: node.id, status: response.statusCode, attempt }, 'the node refused its API key; trying another node');
      last = new AppError('BAD_GATEWAY', 'The model node failed to answer.', { detail: 'upstream_error' });
      continue;
    }
    if (response.statusCode >= 500 || response.statusCode === 429) {
      // A busy node (429) is not a broken one: it does not count towards opening its circuit.
      lease.release(response.statusCode === 429 ? 'neutral' : 'failure');
      await response.body.dump().catch(() => undefined);
      o.metrics.upstreamErrors.inc({ node: node.id, reason: `status_${response.statusCode}` });
      o.log.warn({ nodeId: node.id, status: response.statusCode, attempt }, 'upstream answered with an error; trying another node');
      last = response.statusCode === 429 || response.statusCode === 503
        ? new AppError('UNAVAILABLE', 'All model nodes are busy. Please retry shortly.', { detail: 'upstream_overloaded', headers: { 'retry-after': '1' } })
        : new AppError('BAD_GATEWAY', 'The model node failed to answer.', { detail: 'upstream_error' });
      continue;
    }
    return { lease, response };
  }
  throw last ?? new AppError('UNAVAILABLE', `No healthy node is serving '${o.model}' right now. Please retry shortly.`, { detail: 'no_available_node', headers: { 'retry-after': '1' } });
}
