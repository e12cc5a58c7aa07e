import type { PrismaClient } from '@cic/db';
import { NODE_STATUSES } from '@cic/core/nodes/node-status-groups';
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'] as const;

/** The workers' own metrics (no per-tenant or per-node labels). */
export function createJobsMetrics(registry: Registry, queues: () => Queue[], prisma: PrismaClient) {
  return {
    nodes: new Gauge({
      name: 'cic_nodes',
      help: 'Nodes by status and served model, read from the database at scrape time (0 for enabled models without nodes, so "no READY node" alerts can fire).',
      labelNames: ['status', 'model'],
      registers: [registry],
      async collect() {
        const [models, groups] = await Promise.all([
          prisma.servedModel.findMany({ where: { enabled: true }, select: { id: true, name: true } }),
          prisma.node.groupBy({ by: ['modelId', 'status'], _count: { _all: true } }),
        ]).catch(() => [null, null] as const);
        if (!models || !groups) return;
        this.reset();
        for (const m of models) for (const status of NODE_STATUSES) this.set({ status, model: m.name }, 0);
        const names = new Map(models.map((m) => [m.id, m.name]));
        for (const g of groups) {
          const model = names.get(g.modelId);
          if (model) this.set({ status: g.status, model }, g._count._all);
        }
      },
    }),
    queueDepth: new Gauge({
      name: 'cic_jobs_queue_depth', help: 'Jobs per queue and state, read from Redis at scrape time.', labelNames: ['queue', 'state'], registers: [registry],
      async collect() {
        for (const queue of queues()) {
          const counts = await queue.getJobCounts(...STATES).catch(() => null);
          if (counts) for (const state of STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
      },
    }),
    jobDuration: new Histogram({
      name: 'cic_job_duration_seconds', help: 'Duration of job attempts.', labelNames: ['queue', 'name', 'outcome'], registers: [registry],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800],
    }),
    jobsFailed: new Counter({ name: 'cic_jobs_failed_total', help: 'Failed job attempts.', labelNames: ['queue', 'name'], registers: [registry] }),
    orphanClusters: new Gauge({ name: 'cic_orphan_clusters', help: 'SkyPilot clusters that no live node owns (last reconcile).', registers: [registry] }),
    nodeLaunches: new Counter({ name: 'cic_node_launches_total', help: 'Finished node launches.', labelNames: ['provider', 'outcome'], registers: [registry] }),
    healthChecks: new Counter({ name: 'cic_node_health_checks_total', help: 'Node health probes.', labelNames: ['result'], registers: [registry] }),
    unhealthyTerminations: new Counter({
      name: 'cic_nodes_unhealthy_terminations_total', help: 'Nodes terminated after UNHEALTHY_TERMINATE_AFTER_SECONDS without a successful health check.', registers: [registry],
    }),
    usageChargedMicros: new Counter({ name: 'cic_usage_charged_micros_total', help: 'Micro-dollars of usage charged to the ledger by the rollup.', registers: [registry] }),
  };
}

export type JobsMetrics = ReturnType<typeof createJobsMetrics>;
