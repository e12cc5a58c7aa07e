// GraphQL benchmark: 1,000 graphql-ws subscribers to nodeStatusChanged in one process against one API
// process (production mode) with real Postgres and Redis; N status changes published the way the jobs
// worker publishes them; event→client latency, lost events, API memory per idle subscriber; then
// requests/s of a typical dashboard query. Prints a Markdown table (docs/graphql.md has the figures).
//
//   npx tsx loadtests/graphql-bench.ts [--subscribers 1000] [--events 200] [--rate 20] [--query-seconds 10]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { publish } from '@cic/api/lib/topics';
import { percentile, round } from './src/stats.ts';
import { scrapeGauge, startGraphQLBenchStack } from './src/graphql/bench-stack.ts';
import { measureQueryRate } from './src/graphql/query-rate.ts';
import { openSubscribers } from './src/graphql/subscribers.ts';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    events: { type: 'string', default: '200' },
    rate: { type: 'string', default: '20' },
    'query-seconds': { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
  },
});
const count = Number(values.subscribers);
const events = Number(values.events);
const rate = Number(values.rate);
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stack = await startGraphQLBenchStack();
const redis = new Redis(stack.redisUrl);
try {
  await settle(2_000);
  const rssBefore = await scrapeGauge(stack.url, 'process_resident_memory_bytes');
  const heapBefore = await stack.liveHeapBytes();
  console.log(`[bench] opening ${count} graphql-ws subscribers`);
  const subscribers = await openSubscribers({ url: stack.url, token: stack.adminToken, nodeId: stack.nodeId, count });
  await settle(3_000);
  const rssIdle = await scrapeGauge(stack.url, 'process_resident_memory_bytes');
  const heapIdle = await stack.liveHeapBytes();
  const sockets = await scrapeGauge(stack.url, 'cic_graphql_ws_connections');

  console.log(`[bench] publishing ${events} status changes at ${rate}/s`);
  const apiCpuBefore = await scrapeGauge(stack.url, 'process_cpu_seconds_total');
  const benchCpuBefore = process.cpuUsage();
  const publishStarted = Date.now();
  for (let seq = 0; seq < events; seq++) {
    await publish(redis, 'nodeStatusChanged', {
      nodeId: stack.nodeId, modelName: stack.modelName, status: seq % 2 ? 'READY' : 'UNHEALTHY', previousStatus: seq % 2 ? 'UNHEALTHY' : 'READY',
      reason: `bench:${seq}:${Date.now()}`, at: new Date().toISOString(),
    });
    await settle(1000 / rate);
  }
  // Wait until deliveries stop (a backlog is late, not lost): lost = never arrived within 60 s.
  const delivered = () => subscribers.reduce((n, s) => n + s.received.size, 0);
  for (let last = -1, deadline = Date.now() + 60_000; delivered() !== last && Date.now() < deadline; ) {
    last = delivered();
    await settle(2_000);
  }
  const busySeconds = (Date.now() - publishStarted) / 1000;
  const apiCpu = (await scrapeGauge(stack.url, 'process_cpu_seconds_total')) - apiCpuBefore;
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const latencies = subscribers.flatMap((s) => [...s.received.values()]);
  const expected = count * events;
  const lost = expected - latencies.length;
  const errors = subscribers.reduce((n, s) => n + s.errors, 0);
  for (const s of subscribers) void s.client.dispose();
  await settle(1_000);

  console.log('[bench] dashboard query rate');
  const dashboard = await measureQueryRate({
    url: stack.url, token: stack.adminToken, concurrency: Number(values.concurrency), seconds: Number(values['query-seconds']),
    query: `query Overview($id: ID!, $from: DateTime!) {
      viewer { id email isPlatformAdmin memberships { role organization { id name } } }
      organization(id: $id) { billing { balanceMicros lowBalanceMicros frozen } usage(from: $from, granularity: DAY) { totals { requests promptTokens completionTokens costMicros } } }
      models { name available } }`,
    variables: { id: stack.organizationId, from: new Date(Date.now() - 86_400_000).toISOString() },
  });

  const ms = (v: number) => `${round(v, 1)} ms`;
  const kb = (bytes: number) => `${round(bytes / 1024, 1)} KB`;
  console.log(`
| measure | value |
|---|---|
| subscribers (graphql-ws, one client process) | ${count} (API reports ${sockets} sockets) |
| status changes published | ${events} at ${rate}/s → ${expected} deliveries expected |
| delivered / lost / errors | ${latencies.length} / ${lost} / ${errors} |
| event→client latency p50 / p95 / p99 / max | ${ms(percentile(latencies, 50))} / ${ms(percentile(latencies, 95))} / ${ms(percentile(latencies, 99))} / ${ms(latencies.reduce((m, v) => Math.max(m, v), 0))} |
| CPU while publishing + draining (${round(busySeconds, 1)} s) | API ${round(apiCpu, 1)} s, subscriber process ${round((benchCpu.user + benchCpu.system) / 1e6, 1)} s |
| API RSS per idle subscriber | ${kb((rssIdle - rssBefore) / count)} |
| API heap (live, after a full GC) per idle subscriber | ${kb((heapIdle - heapBefore) / count)} |
| dashboard query (viewer + billing + usage + models), ${values.concurrency} concurrent | ${round(dashboard.perSecond, 0)} req/s, p50 ${ms(percentile(dashboard.latencies, 50))}, p95 ${ms(percentile(dashboard.latencies, 95))}, errors ${dashboard.errors} |
`);
} finally {
  redis.disconnect();
  await stack.stop();
}
