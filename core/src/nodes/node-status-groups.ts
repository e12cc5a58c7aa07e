import type { NodeStatus } from '@cic/db';

/*
 * The named groups of node statuses that api, jobs and the dashboard ask about, defined once against
 * NODE_TRANSITIONS (node-state-machine.ts; core/test/node-status-groups.test.ts pins each group to it).
 * Browser-safe on purpose: only type imports, so the dashboard's client code can use it.
 */

/** Every status, in lifecycle order (the GraphQL enum and the `cic_nodes` gauge list them all). */
export const NODE_STATUSES = [
  'PENDING', 'PROVISIONING', 'STARTING', 'READY', 'UNHEALTHY', 'DRAINING', 'TERMINATING', 'TERMINATED', 'FAILED',
] as const satisfies readonly NodeStatus[];

/** The launch job's part of the lifecycle: `node.launch` resumes from these; READY is still ahead. */
export const LAUNCHING_STATUSES: readonly NodeStatus[] = ['PENDING', 'PROVISIONING', 'STARTING'];

/** Receives inference traffic. */
export const ROUTABLE_STATUSES: readonly NodeStatus[] = ['READY'];

/**
 * Its vLLM came up and no one asked to stop it: the health checker probes it (UNHEALTHY may turn READY
 * again) and a termination drains it before the teardown.
 */
export const SERVING_STATUSES: readonly NodeStatus[] = ['READY', 'UNHEALTHY'];

/** Termination was asked for and its job drains or tears down: a new request only enqueues the job again. */
export const TERMINATION_UNDER_WAY_STATUSES: readonly NodeStatus[] = ['DRAINING', 'TERMINATING'];

/** Where a teardown ends (FAILED also ends a failed launch): nothing runs for the node any more. */
export const ENDED_STATUSES: readonly NodeStatus[] = ['TERMINATED', 'FAILED'];

/** Not ended: launching, serving or being terminated (the dashboard hides the rest by default). */
export const LIVE_STATUSES: readonly NodeStatus[] = NODE_STATUSES.filter((s) => !ENDED_STATUSES.includes(s));

/**
 * The node's cloud cluster (or local process) is its own from the first launch step until the teardown
 * finished, even while it is not up yet or half torn down: a cluster no such node owns is an orphan.
 * PENDING has none yet: no launch step ran.
 */
export const OWNS_CLUSTER_STATUSES: readonly NodeStatus[] = ['PROVISIONING', 'STARTING', 'READY', 'UNHEALTHY', 'DRAINING', 'TERMINATING'];

/**
 * Its cluster (or local process) must exist: provisioning is over and the teardown has not begun, so a
 * cluster that vanished is drift the reconcile fixes.
 */
export const RUNNING_STATUSES: readonly NodeStatus[] = ['STARTING', 'READY', 'UNHEALTHY', 'DRAINING'];

export const isLaunching = (status: NodeStatus): boolean => LAUNCHING_STATUSES.includes(status);
export const isRoutable = (status: NodeStatus): boolean => ROUTABLE_STATUSES.includes(status);
export const isServing = (status: NodeStatus): boolean => SERVING_STATUSES.includes(status);
export const isTerminationUnderWay = (status: NodeStatus): boolean => TERMINATION_UNDER_WAY_STATUSES.includes(status);
export const isLive = (status: NodeStatus): boolean => LIVE_STATUSES.includes(status);
export const ownsCluster = (status: NodeStatus): boolean => OWNS_CLUSTER_STATUSES.includes(status);
export const isRunning = (status: NodeStatus): boolean => RUNNING_STATUSES.includes(status);
