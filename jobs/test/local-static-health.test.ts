import { createTestDatabase, type TestDatabase } from '@cic/db/testing';
import { createSimulator, type Simulator } from '@cic/vllm-sim';
import { enqueue } from '@cic/core/jobs/enqueue-job';
import { transitionNode } from '@cic/core/nodes/node-state-machine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../src/providers/local-provider.ts';
import { probeVllm } from '../src/vllm-probe.ts';
import { createNode, MODEL, nodeApiKeyOf, startTestWorkers, subscribeNodeEvents, testConfig, waitForStatus } from './harness.ts';

let db: TestDatabase;
let workers: ReturnType<typeof startTestWorkers>;
let config: ReturnType<typeof testConfig>;
const sims: Simulator[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  config = testConfig(db.url, { HEALTH_FAILURE_THRESHOLD: '2' });
  workers = startTestWorkers(config);
  await workers.start();
});
afterAll(async () => {
  await workers?.stop();
  await Promise.all(sims.map((s) => s.close()));
  await db?.drop();
});
const lifecycle = () => workers.queues[0]!;

describe('local provider', () => {
  it('runs the simulator as a child process: READY, serves the model, stopped on terminate', async () => {
    const node = await createNode(db.prisma, 'LOCAL');
    const live = await subscribeNodeEvents(config, node.id);
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    const ready = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
    expect(ready.status).toBe('READY');
    expect(await live.transitions(3)).toEqual(['PROVISIONING', 'STARTING', 'READY']);
    // The simulator requires the node's own key, as vLLM started with VLLM_API_KEY does.
    const key = (await nodeApiKeyOf(db.prisma, node.id))!;
    expect(key).toMatch(/^cicn_/);
    expect((await fetch(`${ready.endpointUrl}/v1/models`)).status).toBe(401);
    const models = (await (await fetch(`${ready.endpointUrl}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
    expect(JSON.stringify(await db.prisma.nodeEvent.findMany({ where: { nodeId: node.id } }))).not.toContain(key);
    const pid = (ready.config as { localPid: number }).localPid;
    expect(isAlive(pid)).toBe(true);

    await transitionNode({ prisma: db.prisma, bus: workers.bus, nodeId: node.id, to: 'DRAINING', reason: 'test' });
    await enqueue(lifecycle(), 'node.terminate', { nodeId: node.id });
    expect((await waitForStatus(db.prisma, node.id, ['TERMINATED', 'FAILED'])).status).toBe('TERMINATED');
    expect(isAlive(pid)).toBe(false);
    expect(await live.transitions(6)).toEqual(['PROVISIONING', 'STARTING', 'READY', 'DRAINING', 'TERMINATING', 'TERMINATED']);
    await live.close();
  });

  it('reconcile fails a local node whose simulator process died', async () => {
    const node = await createNode(db.prisma, 'LOCAL');
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    const ready = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
    const pid = (ready.config as { localPid: number }).localPid;
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
    const { vanished } = await (await import('../src/handlers/reconcile-nodes.ts')).handleReconcile(workers.handlerContext(AbortSignal.timeout(10_000)));
    expect(vanished).toBeGreaterThanOrEqual(1);
    const failed = await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } });
    expect(failed.status).toBe('FAILED');
    expect(failed.statusReason).toContain(`simulator process ${pid} is gone`);
  });
});

describe('static provider and the health checker', () => {
  it('registers an existing server, records its load, goes UNHEALTHY when it stops answering and READY when it recovers', async () => {
    const sim = await createSimulator({ model: MODEL });
    sims.push(sim);
    const node = await createNode(db.prisma, 'STATIC', { baseUrl: `${sim.url}/v1` });
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    const ready = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
    expect(ready.status).toBe('READY');
    expect(ready.endpointUrl).toBe(sim.url);
    // The repeatable health check records the load.
    for (;;) {
      const n = await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } });
      if (n.lastHealthAt) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    sim.killEngine();
    const unhealthy = await waitForStatus(db.prisma, node.id, ['UNHEALTHY']);
    expect(unhealthy.healthFailures).toBeGreaterThanOrEqual(2);
    expect(unhealthy.statusReason).toMatch(/failed health checks: GET \/health answered 503/);
    sim.reviveEngine();
    const back = await waitForStatus(db.prisma, node.id, ['READY']);
    expect(back.healthFailures).toBe(0);
    expect(back.statusReason).toBe('health check passed again');
  });

  it("sends a STATIC node's key (from its admin) on the readiness and health probes", async () => {
    const sim = await createSimulator({ model: MODEL, apiKey: 'static-admin-key' });
    sims.push(sim);
    const node = await createNode(db.prisma, 'STATIC', { baseUrl: sim.url }, { apiKey: 'static-admin-key' });
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    expect((await waitForStatus(db.prisma, node.id, ['READY', 'FAILED'])).status).toBe('READY');
    await expect.poll(async () => (await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } })).lastHealthAt).not.toBeNull();
    // Without the key the same server is never ready.
    const keyless = await createNode(db.prisma, 'STATIC', { baseUrl: sim.url });
    await enqueue(lifecycle(), 'node.launch', { nodeId: keyless.id });
    expect((await waitForStatus(db.prisma, keyless.id, ['READY', 'FAILED'])).statusReason).toBe("vLLM refused the node's API key: GET /v1/models answered 401");
  }, 20_000);

  it.each(['http://169.254.169.254:8000', 'http://[::ffff:169.254.169.254]:8000', 'http://metadata.google.internal/'])(
    'refuses the link-local / metadata base URL %s when registering (a row written before the policy)', async (baseUrl) => {
      const node = await createNode(db.prisma, 'STATIC', { baseUrl });
      await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
      const failed = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
      expect(failed.statusReason).toMatch(/^config\.baseUrl cannot be used: .* is a link-local or cloud metadata address \(set NODE_ALLOW_LINK_LOCAL_URLS=true/);
    },
  );

  it('a STATIC node without baseUrl fails with a clear reason', async () => {
    const node = await createNode(db.prisma, 'STATIC');
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    const failed = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
    expect(failed.statusReason).toBe("a STATIC node needs config.baseUrl (the vLLM server's base URL)");
  });

  it('an invalid node config fails the launch with the offending field', async () => {
    const node = await createNode(db.prisma, 'STATIC', { baseUrl: 'ftp://x', secretEnvNames: ['not a name'] });
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    const failed = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
    expect(failed.statusReason).toMatch(/^invalid node config: .*secretEnvNames/);
    // Classified permanent (InvalidNodeConfigError): FAILED on the first attempt, no retry.
    const retried = await db.prisma.nodeEvent.count({ where: { nodeId: node.id, message: { startsWith: 'launch attempt failed, will retry' } } });
    expect(retried).toBe(0);
  });
});

describe('a node that stays unhealthy', () => {
  it('is terminated after UNHEALTHY_TERMINATE_AFTER_SECONDS without a successful health check, and says why', async () => {
    // Its own database and workers: the short limit must not touch the other tests' nodes.
    const own = await createTestDatabase();
    const ownWorkers = startTestWorkers(testConfig(own.url, { HEALTH_FAILURE_THRESHOLD: '1', UNHEALTHY_TERMINATE_AFTER_SECONDS: '2' }));
    try {
      await ownWorkers.start();
      const sim = await createSimulator({ model: MODEL });
      sims.push(sim);
      const node = await createNode(own.prisma, 'STATIC', { baseUrl: sim.url });
      await enqueue(ownWorkers.queues[0]!, 'node.launch', { nodeId: node.id });
      expect((await waitForStatus(own.prisma, node.id, ['READY', 'FAILED'])).status).toBe('READY');
      sim.killEngine();
      await waitForStatus(own.prisma, node.id, ['UNHEALTHY']);
      const ended = await waitForStatus(own.prisma, node.id, ['TERMINATED', 'FAILED']);
      expect(ended.status).toBe('TERMINATED');
      const events = await own.prisma.nodeEvent.findMany({ where: { nodeId: node.id }, orderBy: { createdAt: 'asc' } });
      const said = events.map((e) => e.message);
      expect(said.filter((m) => /^no successful health check for \d+ s \(UNHEALTHY_TERMINATE_AFTER_SECONDS=2\): terminating$/.test(m))).toHaveLength(1);
      expect(events.map((e) => e.toStatus).filter(Boolean)).toEqual(expect.arrayContaining(['UNHEALTHY', 'DRAINING', 'TERMINATING', 'TERMINATED']));
      expect(await ownWorkers.registry.metrics()).toMatch(/cic_nodes_unhealthy_terminations_total 1\b/);
    } finally {
      await ownWorkers.stop();
      await own.drop();
    }
  });
});

describe('drain before teardown', () => {
  it('a DRAINING node is torn down only after its in-flight request finished', async () => {
    const sim = await createSimulator({ model: MODEL, itlMs: 40, itlSpreadMs: 0 });
    sims.push(sim);
    const node = await createNode(db.prisma, 'STATIC', { baseUrl: sim.url });
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    await waitForStatus(db.prisma, node.id, ['READY']);
    let statusWhenFinished: string | undefined;
    const inflight = fetch(`${sim.url}/v1/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, prompt: 'hello', max_tokens: 40, ignore_eos: true }),
    }).then((r) => r.text()).then(async () => {
      statusWhenFinished = (await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } })).status;
    });
    while ((await probeVllm(sim.url, null, 1000)).running < 1) await new Promise((r) => setTimeout(r, 20));
    await transitionNode({ prisma: db.prisma, bus: workers.bus, nodeId: node.id, to: 'DRAINING', reason: 'test' });
    await enqueue(lifecycle(), 'node.terminate', { nodeId: node.id });
    expect((await waitForStatus(db.prisma, node.id, ['TERMINATED', 'FAILED'])).status).toBe('TERMINATED');
    await inflight;
    expect(statusWhenFinished).toBe('DRAINING');
  });
});

describe('workers /metrics', () => {
  it('exposes queue depth, job durations and failures', async () => {
    const text = await workers.registry.metrics();
    expect(text).toMatch(/cic_jobs_queue_depth\{queue="node-lifecycle",state="completed"\} [1-9]/);
    expect(text).toMatch(/cic_job_duration_seconds_count\{queue="maintenance",name="nodes.health-check",outcome="completed"\} [1-9]/);
    expect(text).toMatch(/cic_jobs_failed_total\{queue="node-lifecycle",name="node.launch"\} [1-9]/);
  });
});
