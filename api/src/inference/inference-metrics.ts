import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { OrganizationLabels } from './organization-labels.ts';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Inference metrics on the API's registry. Labels are models, nodes and reasons, never keys; requests and
 * tokens also carry a bounded `organization` label (an id, see {@link OrganizationLabels}).
 */
export function createInferenceMetrics(registry: Registry, { topOrganizations = 20 }: { topOrganizations?: number } = {}) {
  const registers = [registry];
  const requests = new Counter({ name: 'cic_inference_requests_total', help: 'Inference requests answered, by model, HTTP status and organization (the busiest by id, others `other`).', labelNames: ['model', 'status', 'organization'] as const, registers });
  const tokens = new Counter({ name: 'cic_inference_tokens_total', help: 'Tokens metered, by model, type (prompt, completion) and organization (the busiest by id, others `other`).', labelNames: ['model', 'type', 'organization'] as const, registers });
  return {
    requests,
    tokens,
    /** The `organization` label of `requests` and `tokens`: `INFERENCE_METRICS_TOP_ORGANIZATIONS` ids at most. */
    organizations: new OrganizationLabels({ topN: topOrganizations, counters: [requests, tokens] }),
    ttft: new Histogram({ name: 'cic_inference_ttft_seconds', help: 'Time from request arrival to the first streamed byte sent to the client.', labelNames: ['model'] as const, buckets: LATENCY_BUCKETS, registers }),
    duration: new Histogram({ name: 'cic_inference_duration_seconds', help: 'Time from request arrival to the last byte sent.', labelNames: ['model'] as const, buckets: LATENCY_BUCKETS, registers }),
    upstreamErrors: new Counter({ name: 'cic_upstream_errors_total', help: 'Failed calls to vLLM nodes, by node and reason.', labelNames: ['node', 'reason'] as const, registers }),
    circuitState: new Gauge({ name: 'cic_circuit_state', help: 'Circuit breaker per node: 0 closed, 1 half-open, 2 open.', labelNames: ['node'] as const, registers }),
    rateLimitRejections: new Counter({ name: 'cic_ratelimit_rejections_total', help: 'Requests refused by the rate limiter, by limit (requests, tokens).', labelNames: ['kind'] as const, registers }),
    rateLimitFailOpen: new Counter({ name: 'cic_ratelimit_failopen_total', help: 'Requests let through because Redis could not answer the rate limiter.', registers }),
    usageWritten: new Counter({ name: 'cic_usage_records_written_total', help: 'Usage records inserted by the usage writer.', registers }),
    usageWriteErrors: new Counter({ name: 'cic_usage_write_errors_total', help: 'Usage writer failures, by stage (enqueue, insert, dropped).', labelNames: ['stage'] as const, registers }),
    usageSpooled: new Counter({ name: 'cic_usage_records_spooled_total', help: 'Usage records written to the local spool file because neither Redis nor Postgres took them.', registers }),
    admissionsRecovered: new Counter({ name: 'cic_usage_admissions_recovered_total', help: 'Requests of dead API instances metered by this instance as PARTIAL from their admission entries.', registers }),
    usageWriteLag: new Histogram({ name: 'cic_usage_write_lag_seconds', help: 'Time from the end of a request to its usage record being committed.', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers }),
  };
}

export type InferenceMetrics = ReturnType<typeof createInferenceMetrics>;
