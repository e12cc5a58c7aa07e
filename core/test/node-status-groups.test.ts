// Each status group is pinned to the lifecycle graph (NODE_TRANSITIONS), not to a copy of its list: a
// status dropped from (or wrongly added to) a group, or a transition that changes what a group means,
// fails here.
import { NodeStatus } from '@cic/db';
import { describe, expect, it } from 'vitest';
import { NODE_TRANSITIONS } from '../src/nodes/node-state-machine.ts';
import * as groups from '../src/nodes/node-status-groups.ts';

type Status = keyof typeof NODE_TRANSITIONS;
const ALL = Object.keys(NODE_TRANSITIONS) as Status[];

/** Every status reachable from `from` (inclusive) without passing through `avoid`. */
function reachable(from: readonly Status[], avoid: readonly Status[] = []): Set<Status> {
  const seen = new Set(from.filter((s) => !avoid.includes(s)));
  for (const s of seen) for (const next of NODE_TRANSITIONS[s]) if (!avoid.includes(next)) seen.add(next);
  return seen;
}
const sorted = (statuses: Iterable<Status>) => [...statuses].sort();
const where = (test: (s: Status) => boolean) => sorted(ALL.filter(test));

// The lifecycle's anchors, read from the graph: the one status nothing leads to, and the one that leads nowhere.
const [START] = ALL.filter((s) => !ALL.some((from) => NODE_TRANSITIONS[from].includes(s)));
const [FINAL] = ALL.filter((s) => NODE_TRANSITIONS[s].length === 0);
/** The teardown step(s): what leads to FINAL. */
const TEARDOWN = ALL.filter((s) => NODE_TRANSITIONS[s].includes(FINAL!));
/** What a launch succeeds in (the documented goal of `node.launch`). */
const LAUNCHED: Status = 'READY';

describe('node status groups', () => {
  it('the lifecycle has one start (PENDING) and one final status (TERMINATED), and every status lies on it', () => {
    expect([START, FINAL]).toEqual(['PENDING', 'TERMINATED']);
    expect(sorted(reachable([START!]))).toEqual(sorted(ALL));
    expect(sorted(groups.NODE_STATUSES)).toEqual(sorted(Object.values(NodeStatus)));
    expect(sorted(groups.NODE_STATUSES)).toEqual(sorted(ALL));
  });

  it('ended: where a teardown ends (TERMINATED, and FAILED when it fails)', () => {
    expect(sorted(groups.ENDED_STATUSES)).toEqual(sorted(new Set(TEARDOWN.flatMap((s) => NODE_TRANSITIONS[s]))));
  });

  it('live: every status but the ended ones, and each can still be terminated', () => {
    expect(sorted(groups.LIVE_STATUSES)).toEqual(where((s) => !groups.ENDED_STATUSES.includes(s)));
    for (const s of groups.LIVE_STATUSES) expect(reachable([s]).has(FINAL!)).toBe(true);
  });

  it('launching: on the way from PENDING to READY, READY not reached yet', () => {
    const beforeLaunched = reachable([START!], [LAUNCHED]);
    expect(sorted(groups.LAUNCHING_STATUSES)).toEqual(where((s) => beforeLaunched.has(s) && reachable([s]).has(LAUNCHED)));
  });

  it('routable: what a launch succeeds in, neither launching nor ended nor being terminated', () => {
    const enteredFromLaunching = new Set(groups.LAUNCHING_STATUSES.flatMap((s) => NODE_TRANSITIONS[s]));
    const expected = where((s) => enteredFromLaunching.has(s) && !groups.LAUNCHING_STATUSES.includes(s)
      && !groups.ENDED_STATUSES.includes(s) && !groups.TERMINATION_UNDER_WAY_STATUSES.includes(s));
    expect(expected).toEqual([LAUNCHED]);
    expect(sorted(groups.ROUTABLE_STATUSES)).toEqual(expected);
  });

  it('serving: the routable statuses and those that can turn routable again (READY ↔ UNHEALTHY)', () => {
    const fromRoutable = reachable(groups.ROUTABLE_STATUSES);
    expect(sorted(groups.SERVING_STATUSES)).toEqual(where((s) => fromRoutable.has(s) && groups.ROUTABLE_STATUSES.some((r) => reachable([s]).has(r))));
  });

  it('termination under way: after serving, with no way back to serving, not ended yet', () => {
    const afterServing = reachable(groups.SERVING_STATUSES);
    expect(sorted(groups.TERMINATION_UNDER_WAY_STATUSES)).toEqual(where((s) => afterServing.has(s)
      && !groups.SERVING_STATUSES.some((serving) => reachable([s]).has(serving)) && !groups.ENDED_STATUSES.includes(s)));
    expect(TEARDOWN.every((s) => groups.TERMINATION_UNDER_WAY_STATUSES.includes(s))).toBe(true);
  });

  it('owns a cluster: every live status from the first launch step on, the teardown included', () => {
    expect(sorted(groups.OWNS_CLUSTER_STATUSES)).toEqual(where((s) => groups.LIVE_STATUSES.includes(s) && s !== START));
    for (const s of TEARDOWN) expect(groups.OWNS_CLUSTER_STATUSES).toContain(s);
  });

  it('running: owns a cluster once its provisioning step (the first after PENDING) is over, until the teardown begins', () => {
    const provisioning = NODE_TRANSITIONS[START!].filter((s) => groups.LAUNCHING_STATUSES.includes(s));
    expect(provisioning).toEqual(['PROVISIONING']);
    expect(sorted(groups.RUNNING_STATUSES)).toEqual(where((s) => groups.OWNS_CLUSTER_STATUSES.includes(s) && !provisioning.includes(s) && !TEARDOWN.includes(s)));
  });

  it('each predicate answers for exactly its group', () => {
    const pairs = [
      [groups.isLaunching, groups.LAUNCHING_STATUSES], [groups.isRoutable, groups.ROUTABLE_STATUSES], [groups.isServing, groups.SERVING_STATUSES],
      [groups.isTerminationUnderWay, groups.TERMINATION_UNDER_WAY_STATUSES], [groups.isLive, groups.LIVE_STATUSES],
      [groups.ownsCluster, groups.OWNS_CLUSTER_STATUSES], [groups.isRunning, groups.RUNNING_STATUSES],
    ] as const;
    for (const [predicate, group] of pairs) expect(where(predicate)).toEqual(sorted(group));
  });
});
