import type { Node, PrismaClient, ServedModel } from '@cic/db';
import type { TopicPayloads } from '@cic/core/lib/topics';

export type NodeSnapshot = Node & { model: ServedModel };

/**
 * Loads the node behind a nodeStatusChanged event once per process, however many subscribers receive
 * it (1,000 admin tabs must not mean 1,000 queries per event). Status fields come from the event, so
 * each subscriber sees the transition it was told about even if the node moved on meanwhile.
 */
export class NodeSnapshots {
  readonly #prisma: PrismaClient;
  readonly #cache = new Map<string, Promise<NodeSnapshot | null>>();
  readonly #ttlMs: number;

  /** @param ttlMs how long one event's snapshot is kept for late subscribers. @defaultValue 2000 */
  constructor(prisma: PrismaClient, ttlMs = 2_000) {
    this.#prisma = prisma;
    this.#ttlMs = ttlMs;
  }

  load(event: TopicPayloads['nodeStatusChanged']): Promise<NodeSnapshot | null> {
    const key = `${event.nodeId}@${event.at}@${event.status}`;
    let pending = this.#cache.get(key);
    if (!pending) {
      pending = this.#prisma.node
        .findUnique({ where: { id: event.nodeId }, include: { model: true } })
        .then((node) => (node ? { ...node, status: event.status, statusReason: event.reason } : null));
      this.#cache.set(key, pending);
      setTimeout(() => this.#cache.delete(key), this.#ttlMs).unref();
    }
    return pending;
  }
}
