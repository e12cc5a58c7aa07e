// GraphQL benchmark: 1,000 graphql-ws subscribers in one process, N status changes published to Redis
// the way the jobs worker publishes them, event→client latency, lost events, server CPU and memory per
// idle subscriber; measured first against a bare fan-out server (bare-fanout.ts: the least any server
// must do, one frame and one socket write per subscriber) and then against one CIC API process
// (production mode, real Postgres and Redis) subscribed to nodeStatusChanged, so the ratio shows what
// GraphQL, authentication and per-event re-authorization add on this machine, now. Then requests/s of a
// typical dashboard query. Prints a Markdown table (docs/graphql.md has the figures).
//
//   npx tsx loadtests/graphql-bench.ts [--subscribers 1000] [--events 100] [--rate 5] [--query-seconds 10]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { percentile, round } from './src/stats.ts';
import { startGraphQLBenchStack, type FanoutServer } from './src/graphql/bench-stack.ts';
import { measureQueryRate } from './src/graphql/query-rate.ts';
import { openSubscribers } from './src/graphql/subscribers.ts';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    events: { type: 'string', default: '100' },
    rate: { type: 'string', default: '5' },
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

/** Opens the subscribers on `server`, publishes the events to its channel and measures the fan-out. */
async function measureFanout(server: FanoutServer) {
  await settle(2_000);
  const before = await server.stats(true);
  console.log(`[bench] ${server.name}: opening ${count} graphql-ws subscribers`);
  const subscribers = await openSubscribers({ url: server.url, token: stack.adminToken, nodeId: stack.nodeId, count });
  await settle(3_000);
  const idle = await server.stats(true);

  console.log(`[bench] ${server.name}: publishing ${events} status changes at ${rate}/s`);
  const busy = await server.stats();
  const clientCpuBefore = process.cpuUsage();
  const publishStarted = Date.now();
  for (let seq = 0; seq < events; seq++) {
    await redis.publish(server.channel, JSON.stringify({
      nodeId: stack.nodeId, modelName: stack.modelName, status: seq % 2 ? 'READY' : 'UNHEALTHY', previousStatus: seq % 2 ? 'UNHEALTHY' : 'READY',
      reason: `bench:${seq}:${Date.now()}`, at: new Date().toISOString(),
    }));
    await settle(1000 / rate);
  }
  // Wait until deliveries stop (a backlog is late, not lost): lost = never arrived within 60 s.
  const delivered = () => subscribers.reduce((n, s) => n + s.received.size, 0);
  for (let last = -1, deadline = Date.now() + 60_000; delivered() !== last && Date.now() < deadline; ) {
    last = delivered();
    await settle(2_000);
  }
  const seconds = (Date.now() - publishStarted) / 1000;
  const serverCpu = (await server.stats()).cpuSeconds - busy.cpuSeconds;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const latencies = subscribers.flatMap((s) => [...s.received.values()]);
  for (const s of subscribers) void s.client.dispose();
  await settle(1_000);
  return {
    sockets: idle.sockets,
    delivered: latencies.length,
    lost: count * events - latencies.length,
    errors: subscribers.reduce((n, s) => n + s.errors, 0),
    p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99),
    max: latencies.reduce((m, v) => Math.max(m, v), 0),
    seconds,
    serverCpu,
    clientCpu: (clientCpu.user + clientCpu.system) / 1e6,
    heapPerSubscriber: (idle.heapBytes - before.heapBytes) / count,
    rssPerSubscriber: (idle.rssBytes - before.rssBytes) / count,
  };
}

try {
  const bareServer = await stack.startBareFanout();
  const bare = await measureFanout(bareServer);
  await bareServer.stop();
  const cic = await measureFanout(stack.cic);

  console.log('[bench] dashboard query rate');
  const dashboard = await measureQueryRate({
    url: stack.url, token: stack.adminToken, concurrency: Number(values.concurrency), seconds: Number(values['query-seconds']),
    query: `query Overview($id: ID!, $from: DateTime!) {
      viewer { id email isPlatformAdmin memberships { role organization { id name } } }
      organization(id: $id) { billing { balanceMicros lowBalanceMicros frozen } usage(from: $from, granularity: DAY) { totals { requests promptTokens completionTokens costMicros } } }
      models { name available } }`,
    variables: { id: stack.organizationId, from: new Date(Date.now() - 86_400_000).toISOString() },
  });

  const ms = (v: number) => `${round(v, 0)} ms`;
  const kb = (bytes: number) => `${round(bytes / 1024, 1)} KB`;
  const us = (r: typeof cic) => `${round((r.serverCpu * 1e6) / Math.max(1, r.delivered), 0)} µs`;
  const ratio = (a: number, b: number) => `${round(a / b, 2)}×`;
  const row = (label: string, f: (r: typeof cic) => string, versus = '') => `| ${label} | ${f(bare)} | ${f(cic)} | ${versus} |`;
  console.log(`
${count} graphql-ws subscribers (one client process), ${events} status changes at ${rate}/s → ${count * events} deliveries expected per server.

| measure | bare fan-out (baseline) | CIC API | CIC / baseline |
|---|---|---|---|
${row('sockets open', (r) => String(r.sockets))}
${row('delivered / lost / errors', (r) => `${r.delivered} / ${r.lost} / ${r.errors}`)}
${row('event→client latency p50 / p95 / p99 / max', (r) => `${ms(r.p50)} / ${ms(r.p95)} / ${ms(r.p99)} / ${ms(r.max)}`, `p95 ${ratio(cic.p95, bare.p95)}`)}
${row('server CPU while publishing + draining', (r) => `${round(r.serverCpu, 1)} s in ${round(r.seconds, 0)} s (${us(r)} per delivery)`, ratio(cic.serverCpu, bare.serverCpu))}
${row('subscriber process CPU', (r) => `${round(r.clientCpu, 1)} s`)}
${row('live heap per idle subscriber (after a full GC)', (r) => kb(r.heapPerSubscriber), ratio(cic.heapPerSubscriber, bare.heapPerSubscriber))}
${row('RSS per idle subscriber', (r) => kb(r.rssPerSubscriber))}

Dashboard query (viewer + billing + usage + models), ${values.concurrency} concurrent: ${round(dashboard.perSecond, 0)} req/s, p50 ${ms(percentile(dashboard.latencies, 50))}, p95 ${ms(percentile(dashboard.latencies, 95))}, errors ${dashboard.errors}.
`);
} finally {
  redis.disconnect();
  await stack.stop();
}
