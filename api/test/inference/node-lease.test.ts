import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/inference/circuit-breaker.ts';
import { NodeLease } from '../../src/inference/node-lease.ts';

/** A node as leases see it, with a breaker on a clock the test moves. */
function node(failureThreshold = 2) {
  const clock = { now: 0 };
  return { inflight: 0, breaker: new CircuitBreaker({ failureThreshold, cooldownMs: 1_000, now: () => clock.now }), clock };
}

describe('NodeLease', () => {
  it('counts the request in flight until released, and only the first release counts', () => {
    const n = node();
    const a = new NodeLease(n);
    const b = new NodeLease(n);
    expect(n.inflight).toBe(2);
    a.release('success');
    a.release('success');
    a.release('neutral');
    expect(n.inflight).toBe(1);
    b.release('neutral');
    expect(n.inflight).toBe(0);
  });

  it('reports one failure to the breaker however often it is released', () => {
    const n = node(2);
    const lease = new NodeLease(n);
    lease.release('failure');
    lease.release('failure');
    expect(n.breaker.state).toBe('closed');
    new NodeLease(n).release('failure');
    expect(n.breaker.state).toBe('open');
  });

  it('gives the half-open probe slot back when released without a verdict', () => {
    const n = node(1);
    new NodeLease(n).release('failure');
    n.clock.now = 1_000;
    expect(n.breaker.acquire()).toBe(true);
    const probe = new NodeLease(n);
    expect(n.breaker.available()).toBe(false);
    probe.release('neutral');
    probe.release('failure');
    expect(n.breaker.state).toBe('half-open');
    expect(n.breaker.available()).toBe(true);
  });
});
