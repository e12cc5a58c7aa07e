import type { CircuitBreaker } from './circuit-breaker.ts';

/**
 * What a request learned about the node, for its circuit breaker: `success` and `failure` count,
 * `neutral` tells nothing (the client left, the limiter refused, the node was merely busy).
 */
export type LeaseResult = 'success' | 'failure' | 'neutral';

/** The parts of a node a lease changes: its in-flight count and its breaker. */
export interface LeasableNode {
  inflight: number;
  readonly breaker: CircuitBreaker;
}

/**
 * One request's hold on a node, from `NodeRegistry.acquire` (which counted it in the node's in-flight
 * load and took the half-open probe slot) to `release`. Only the first release counts, so a `finally`
 * may release as a safety net after a path has released with what it learned.
 */
export class NodeLease<N extends LeasableNode = LeasableNode> {
  readonly node: N;
  #held = true;

  constructor(node: N) {
    this.node = node;
    node.inflight++;
  }

  release(result: LeaseResult): void {
    if (!this.#held) return;
    this.#held = false;
    this.node.inflight--;
    if (result === 'success') this.node.breaker.success();
    else if (result === 'failure') this.node.breaker.failure();
    else this.node.breaker.release();
  }
}
