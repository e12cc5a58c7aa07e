import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The API server's Prometheus registry and its HTTP-level metrics. */
export function createHttpMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests, by route template and status code (`client_aborted`: the client left before the response ended).',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request start to response end (for streams: to the last byte).',
      labelNames: ['method', 'route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    refusedConnections: new Counter({
      name: 'http_refused_connections_total',
      help: 'TCP connections closed on arrival because their peer address already had HTTP_MAX_CONNECTIONS_PER_CLIENT open.',
      registers: [registry],
    }),
    clientErrors: new Counter({
      name: 'http_client_errors_total',
      help: 'Requests refused before routing (malformed, headers too large or too slow), by status answered.',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    activeConnections: new Gauge({
      name: 'http_active_connections',
      help: 'Open TCP connections to the API server.',
      registers: [registry],
    }),
  };
}

export type HttpMetrics = ReturnType<typeof createHttpMetrics>;
