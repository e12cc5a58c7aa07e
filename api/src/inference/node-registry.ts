import type { PrismaClient } from '@cic/db';
import { Pool } from 'undici';
import type { TopicBus, Unsubscribe } from '@cic/core/lib/topic-bus';
import type { Logger } from '@cic/core/logger';
import { modelVisibleTo } from '@cic/core/models/model-visibility';
import type { NodeSecretBox } from '@cic/core/nodes/node-secret';
import { ROUTABLE_STATUSES } from '@cic/core/nodes/node-status-groups';
import { CIRCUIT_STATE_VALUE, CircuitBreaker } from './circuit-breaker.ts';
import type { InferenceMetrics } from './inference-metrics.ts';
import { NodeLease } from './node-lease.ts';

/** One routable vLLM node as this instance sees it. */
export interface UpstreamNode {
  id: string;
  model: string;
  /** Path prefix to put before `/v1/...` (empty for a bare origin). */
  basePath: string;
  /** `Bearer <node key>` for vLLM's --api-key, or undefined for a node without one (never logged). */
  authorization: string | undefined;
  pool: Pool;
  breaker: CircuitBreaker;
  /** Requests this instance has in flight on the node: changed only by its leases. */
  readonly inflight: number;
  /** Load scraped from the node's /metrics by the jobs health checker. */
  running: number;
  waiting: number;
  kvCacheUsage: number;
}

export interface ServedModelInfo {
  name: string;
  maxModelLen: number;
  created: number;
  /** False: only `organizationIds` may list and call it. */
  isPublic: boolean;
  organizationIds: string[];
  /** Micro-dollars per million prompt / completion tokens (the per-key budgets price requests with them). */
  promptPriceMicros: number;
  completionPriceMicros: number;
}

export interface NodeRegistryOptions {
  prisma: PrismaClient;
  /** `nodeStatusChanged` and `modelChanged` trigger a refresh; so does every resync (a change may have been missed). */
  bus: TopicBus;
  log: Logger;
  metrics: InferenceMetrics;
  /** Opens the nodes' sealed API keys (NODE_SECRET_KEY). */
  nodeSecrets: NodeSecretBox;
  refreshMs: number;
  connectTimeoutMs: number;
  /** Upper bound of keep-alive connections per node. */
  connections: number;
  failureThreshold: number;
  cooldownMs: number;
}

/**
 * The nodes that may receive traffic (status READY with an endpoint), kept in memory so no request
 * queries the database: refreshed every `refreshMs` and at once when `nodeStatusChanged` arrives.
 * Each node has its own undici Pool (keep-alive, bounded) and circuit breaker.
 */
export class NodeRegistry {
  readonly #o: NodeRegistryOptions;
  readonly #nodes = new Map<string, UpstreamNode & { url: string; sealedKey: string | null }>();
  #byModel = new Map<string, UpstreamNode[]>();
  #models = new Map<string, ServedModelInfo>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #again = false;
  #unsubscribe: Unsubscribe[] = [];

  constructor(options: NodeRegistryOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    this.#unsubscribe = [
      this.#o.bus.subscribe('nodeStatusChanged', () => void this.refresh()),
      this.#o.bus.subscribe('modelChanged', () => void this.refresh()),
      this.#o.bus.onResync(() => void this.refresh()),
    ];
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#o.refreshMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    await this.#refreshing;
    await Promise.allSettled([...this.#nodes.values()].map((n) => n.pool.close()));
    this.#nodes.clear();
    this.#byModel.clear();
  }

  /** Re-reads routable nodes; concurrent calls coalesce into at most one more query. */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = this.#load()
      .catch((err: unknown) => this.#o.log.warn({ err: (err as Error).message }, 'node registry refresh failed; keeping the last view'))
      .finally(() => {
        this.#refreshing = undefined;
        if (this.#again) {
          this.#again = false;
          void this.refresh();
        }
      });
    return this.#refreshing;
  }

  /** Enabled served models by name (known even when no node serves them right now). */
  model(name: string): ServedModelInfo | undefined {
    return this.#models.get(name);
  }

  /** Whether an organization's keys may call `name`: an enabled model, public or limited to that organization. */
  usableBy(name: string, organizationId: string): boolean {
    const model = this.#models.get(name);
    return model !== undefined && modelVisibleTo(model, organizationId);
  }

  /** Models with at least one routable node that an organization may call. */
  servedModels(organizationId: string): ServedModelInfo[] {
    return [...this.#byModel.keys()].filter((name) => this.usableBy(name, organizationId)).map((name) => this.#models.get(name)!);
  }

  nodesFor(model: string): readonly UpstreamNode[] {
    return this.#byModel.get(model) ?? [];
  }

  /**
   * A lease on the least loaded node for `model` whose circuit lets a request through, skipping `exclude`
   * (nodes already tried); release it with what the request learned. Load = max(our in-flight, scraped
   * running) + 2 × scraped waiting + KV-cache usage.
   */
  acquire(model: string, exclude: ReadonlySet<string>): NodeLease<UpstreamNode> | undefined {
    let best: UpstreamNode | undefined;
    let bestScore = Infinity;
    for (const node of this.#byModel.get(model) ?? []) {
      if (exclude.has(node.id) || !node.breaker.available()) continue;
      const score = Math.max(node.inflight, node.running) + 2 * node.waiting + node.kvCacheUsage;
      if (score < bestScore) {
        best = node;
        bestScore = score;
      }
    }
    return best?.breaker.acquire() ? new NodeLease(best) : undefined;
  }

  async #load(): Promise<void> {
    const [rows, models] = await Promise.all([
      this.#o.prisma.node.findMany({
        where: { status: { in: [...ROUTABLE_STATUSES] }, endpointUrl: { not: null }, model: { enabled: true } },
        select: { id: true, endpointUrl: true, apiKeyCiphertext: true, runningRequests: true, waitingRequests: true, kvCacheUsage: true, model: { select: { name: true } } },
      }),
      this.#o.prisma.servedModel.findMany({
        where: { enabled: true },
        select: { name: true, maxModelLen: true, createdAt: true, isPublic: true, promptPriceMicros: true, completionPriceMicros: true, access: { select: { organizationId: true } } },
      }),
    ]);
    this.#models = new Map(models.map((m) => [m.name, {
      name: m.name, maxModelLen: m.maxModelLen, created: Math.floor(m.createdAt.getTime() / 1000), isPublic: m.isPublic, organizationIds: m.access.map((a) => a.organizationId),
      promptPriceMicros: Number(m.promptPriceMicros), completionPriceMicros: Number(m.completionPriceMicros),
    }]));
    const seen = new Set<string>();
    for (const row of rows) {
      const url = row.endpointUrl!;
      seen.add(row.id);
      let node = this.#nodes.get(row.id);
      if (node && (node.url !== url || node.sealedKey !== row.apiKeyCiphertext)) {
        this.#retire(node);
        node = undefined;
      }
      if (!node) {
        let authorization: string | undefined;
        try {
          authorization = row.apiKeyCiphertext ? `Bearer ${this.#o.nodeSecrets.open(row.apiKeyCiphertext)}` : undefined;
        } catch (err) {
          // Sealed under another NODE_SECRET_KEY: the node would refuse every request, so it gets none.
          this.#o.log.error({ nodeId: row.id, err: (err as Error).message }, 'cannot open the node API key; not routing to the node');
          seen.delete(row.id);
          continue;
        }
        node = this.#create(row.id, row.model.name, url, authorization, row.apiKeyCiphertext);
        this.#nodes.set(row.id, node);
      }
      node.running = row.runningRequests;
      node.waiting = row.waitingRequests;
      node.kvCacheUsage = row.kvCacheUsage;
    }
    for (const node of this.#nodes.values()) if (!seen.has(node.id)) this.#retire(node);
    const byModel = new Map<string, UpstreamNode[]>();
    for (const node of this.#nodes.values()) byModel.set(node.model, [...(byModel.get(node.model) ?? []), node]);
    this.#byModel = byModel;
  }

  #create(id: string, model: string, url: string, authorization: string | undefined, sealedKey: string | null): UpstreamNode & { url: string; sealedKey: string | null } {
    const parsed = new URL(url);
    const path = parsed.pathname.replace(/\/+$/, '');
    const { metrics } = this.#o;
    metrics.circuitState.set({ node: id }, 0);
    return {
      id,
      model,
      url,
      sealedKey,
      authorization,
      basePath: path.endsWith('/v1') ? path.slice(0, -3) : path,
      pool: new Pool(parsed.origin, { connections: this.#o.connections, keepAliveTimeout: 30_000, connect: { timeout: this.#o.connectTimeoutMs } }),
      breaker: new CircuitBreaker({
        failureThreshold: this.#o.failureThreshold,
        cooldownMs: this.#o.cooldownMs,
        onChange: (state) => {
          metrics.circuitState.set({ node: id }, CIRCUIT_STATE_VALUE[state]);
          this.#o.log.warn({ nodeId: id, state }, 'circuit breaker changed state');
        },
      }),
      inflight: 0,
      running: 0,
      waiting: 0,
      kvCacheUsage: 0,
    };
  }

  /** Drops a node from routing; its pool closes once its in-flight requests are done. */
  #retire(node: UpstreamNode): void {
    this.#nodes.delete(node.id);
    this.#o.metrics.circuitState.remove({ node: node.id });
    void node.pool.close().catch(() => undefined);
  }
}
