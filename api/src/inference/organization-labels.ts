import type { Counter } from 'prom-client';

/** Label of requests made without an authenticated key (401s, 403s): no organization is known. */
export const NO_ORGANIZATION = 'none';
/** Label of every organization outside the busiest ones. */
export const OTHER_ORGANIZATIONS = 'other';

export interface OrganizationLabelsOptions {
  /** Organizations that keep their own label: at most this many ids, plus `other` (and `none`), ever exist at once. */
  topN: number;
  /** Counters with an `organization` label; an organization that loses its label loses its series in them. */
  counters: Counter<'organization' | string>[];
  /** How often the busiest organizations are ranked again. @defaultValue 60_000 */
  windowMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/**
 * The `organization` label of the inference metrics, bounded: the `topN` organizations with the most requests
 * keep their id, every other one is `other`, so a platform with thousands of tenants cannot grow the series
 * without limit. Free places go to the first organizations seen; each window, the busiest organizations of
 * the last window that have none take the places of the least busy labelled ones outside the top, whose
 * series are removed (their counts go on under `other`).
 */
export class OrganizationLabels {
  readonly #topN: number;
  readonly #counters: Counter<string>[];
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #labelled = new Set<string>();
  /** Requests per organization in the current window. */
  #traffic = new Map<string, number>();
  #windowStart: number;

  constructor({ topN, counters, windowMs = 60_000, now = Date.now }: OrganizationLabelsOptions) {
    this.#topN = topN;
    this.#counters = counters;
    this.#windowMs = windowMs;
    this.#now = now;
    this.#windowStart = now();
  }

  /** Counts one request of the organization and returns its label. */
  labelOf(organizationId: string | undefined): string {
    if (organizationId === undefined) return NO_ORGANIZATION;
    if (this.#now() - this.#windowStart >= this.#windowMs) this.#rerank();
    this.#traffic.set(organizationId, (this.#traffic.get(organizationId) ?? 0) + 1);
    if (this.#labelled.has(organizationId)) return organizationId;
    if (this.#labelled.size < this.#topN) {
      this.#labelled.add(organizationId);
      return organizationId;
    }
    return OTHER_ORGANIZATIONS;
  }

  /** The organizations labelled now (for tests and debugging). */
  get labelled(): ReadonlySet<string> {
    return this.#labelled;
  }

  #rerank(): void {
    const traffic = this.#traffic;
    const count = (id: string): number => traffic.get(id) ?? 0;
    const top = new Set([...traffic.keys()].sort((a, b) => count(b) - count(a)).slice(0, this.#topN));
    const leaving = [...this.#labelled].filter((id) => !top.has(id)).sort((a, b) => count(a) - count(b));
    for (const id of top) {
      if (this.#labelled.has(id)) continue;
      if (this.#labelled.size >= this.#topN) this.#evict(leaving.shift()!);
      this.#labelled.add(id);
    }
    this.#traffic = new Map();
    this.#windowStart = this.#now();
  }

  #evict(organizationId: string): void {
    this.#labelled.delete(organizationId);
    for (const counter of this.#counters) {
      // The snapshot is async in prom-client; a series added meanwhile under this label is removed too.
      void counter.get().then(({ values }) => {
        if (this.#labelled.has(organizationId)) return;
        for (const { labels } of values) if (labels.organization === organizationId) counter.remove(labels as Record<string, string>);
      });
    }
  }
}
