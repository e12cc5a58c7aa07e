import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { enqueue } from '@cic/core/jobs/enqueue-job';
import { transitionNode } from '@cic/core/nodes/node-state-machine';
import { createTestDatabase, type TestDatabase } from '@cic/db/testing';
import { createSimulator, type Simulator } from '@cic/vllm-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleReconcile } from '../src/handlers/reconcile-nodes.ts';
import { createNode, fakeSkyState, MODEL, nodeApiKeyOf, startTestWorkers, subscribeNodeEvents, testConfig, waitForStatus } from './harness.ts';

let db: TestDatabase;
let sim: Simulator;
let keyed: Simulator;
let workers: ReturnType<typeof startTestWorkers>;
let config: ReturnType<typeof testConfig>;
const sky = fakeSkyState();

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await createSimulator({ model: MODEL });
  keyed = await createSimulator({ model: MODEL, apiKey: 'cicn_known_node_key' });
  process.env.HF_TOKEN = 'hf_secret_value_never_logged';
  config = testConfig(db.url, { SKY_LAUNCH_TIMEOUT_SECONDS: '2', NODE_READY_TIMEOUT_SECONDS: '3' });
  workers = startTestWorkers(config);
  await workers.start();
});
afterAll(async () => {
  await workers?.stop();
  await sim?.close();
  await keyed?.close();
  await db?.drop();
  sky.remove();
});
beforeEach(() => sky.control({}));
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

const lifecycle = () => workers.queues[0]!;
const events = (nodeId: string) => db.prisma.nodeEvent.findMany({ where: { nodeId }, orderBy: { createdAt: 'asc' } });

describe('SkyPilot provider through the fake sky CLI', () => {
  it('walks PENDING → PROVISIONING → STARTING → READY, streams sky output, then drains and tears down', async () => {
    const node = await createNode(db.prisma, 'SKYPILOT', { vllmArgs: ['--max-model-len', '4096'], port: sim.port }, { accelerator: 'H100:1' });
    const live = await subscribeNodeEvents(config, node.id);
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    const ready = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
    expect(ready.status).toBe('READY');
    expect(ready.endpointUrl).toBe(sim.url);
    expect(await live.transitions(3)).toEqual(['PROVISIONING', 'STARTING', 'READY']);
    const messages = live.events.map((e) => e.message);
    expect(messages).toContain(`✓ Cluster launched: ${node.clusterName}.  View logs: sky logs --provision ${node.clusterName}`);
    expect(messages.join('\n')).not.toContain('hf_secret_value_never_logged');
    // sky names the task file it got (a temp path on the worker): the events keep only its name.
    expect(messages).toContain(`Task from YAML spec: ${node.clusterName}.yaml`);
    expect(JSON.stringify(await events(node.id))).not.toContain(tmpdir());
    const launch = sky.calls().find((argv) => argv[0] === 'launch')!;
    expect(launch.slice(0, 3)).toEqual(['launch', '-c', node.clusterName]);
    expect(launch.slice(3)).toEqual([expect.stringMatching(/\.yaml$/), '-y', '--detach-setup', '--detach-run', '--secret', 'VLLM_API_KEY', '--secret', 'HF_TOKEN']);
    expect(sky.calls()).toContainEqual(['status', '--ip', node.clusterName]);
    expect(sky.clusters()).toEqual([expect.objectContaining({ name: node.clusterName, status: 'UP' })]);
    // The node's own key reached SkyPilot through its secret mechanism, and nowhere else.
    const key = (await nodeApiKeyOf(db.prisma, node.id))!;
    expect(key).toMatch(/^cicn_/);
    const [cluster] = sky.clusters();
    expect(cluster!.secretDigests).toEqual({ VLLM_API_KEY: sha256(key), HF_TOKEN: sha256('hf_secret_value_never_logged') });
    expect(cluster!.task!.secrets).toEqual({ VLLM_API_KEY: null, HF_TOKEN: null });
    expect(cluster!.task!.resources).not.toHaveProperty('ports');
    expect(cluster!.task!.envs.VLLM_ARGS).toBe('--max-model-len 4096');
    const everything = JSON.stringify([cluster, sky.calls(), messages, await events(node.id), ready]);
    expect(everything).not.toContain(key);
    expect(everything).not.toContain('hf_secret_value_never_logged');

    await transitionNode({ prisma: db.prisma, bus: workers.bus, nodeId: node.id, to: 'DRAINING', reason: 'test: terminate requested' });
    await enqueue(lifecycle(), 'node.terminate', { nodeId: node.id });
    const done = await waitForStatus(db.prisma, node.id, ['TERMINATED', 'FAILED']);
    expect(done.status).toBe('TERMINATED');
    expect(sky.calls()).toContainEqual(['down', '-y', node.clusterName]);
    expect(sky.clusters()).toEqual([]);
    expect((await events(node.id)).map((e) => e.message)).toContain('drain: no requests in flight');
    await live.close();
  });

  it.each([
    ['launch', 'sky.exceptions.ResourcesUnavailableError: Failed to provision all possible launchable resources.'],
    ['ip', "sky.exceptions.ClusterNotUpError: Cluster 'x' is not in UP status."],
  ])('a failing `sky %s` ends FAILED with the CLI message', async (step, message) => {
    sky.control({ fail: { [step]: message } });
    const node = await createNode(db.prisma, 'SKYPILOT', { port: sim.port });
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    const failed = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
    expect(failed.status).toBe('FAILED');
    expect(failed.statusReason).toContain(message);
    const all = await events(node.id);
    expect(all.filter((e) => e.kind === 'TRANSITION').map((e) => e.toStatus)).toEqual(['PROVISIONING', 'FAILED']);
    // sky launch output is streamed into the events line by line.
    if (step === 'launch') expect(all.some((e) => e.kind === 'LOG' && e.message === message)).toBe(true);
  });

  it('a failing `sky down` is retried, then ends the node FAILED with the CLI message (the cluster is kept for an operator)', async () => {
    const node = await createNode(db.prisma, 'SKYPILOT', { port: sim.port });
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    await waitForStatus(db.prisma, node.id, ['READY']);
    sky.control({ fail: { down: 'sky.exceptions.ClusterOwnerIdentityMismatchError: owner changed' } });
    await transitionNode({ prisma: db.prisma, bus: workers.bus, nodeId: node.id, to: 'DRAINING', reason: 'test' });
    await enqueue(lifecycle(), 'node.terminate', { nodeId: node.id }, { backoffDelayMs: 50 });
    const failed = await waitForStatus(db.prisma, node.id, ['TERMINATED', 'FAILED']);
    expect(failed.status).toBe('FAILED');
    expect(failed.statusReason).toContain('teardown failed: sky down failed (exit code 1): sky.exceptions.ClusterOwnerIdentityMismatchError: owner changed');
    // Five attempts: four logged as retried, the last one marks the node FAILED.
    const retried = (await events(node.id)).filter((e) => e.message.startsWith('teardown attempt failed, will retry'));
    expect(retried).toHaveLength(4);
    expect(sky.clusters().map((c) => c.name)).toContain(node.clusterName);
  });

  it("the probes send the node's key: vLLM requiring it goes READY, one requiring another key never does", async () => {
    const node = await createNode(db.prisma, 'SKYPILOT', { port: keyed.port }, { apiKey: 'cicn_known_node_key' });
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    expect((await waitForStatus(db.prisma, node.id, ['READY', 'FAILED'])).status).toBe('READY');
    expect(sky.clusters().find((c) => c.name === node.clusterName)!.secretDigests!.VLLM_API_KEY).toBe(sha256('cicn_known_node_key'));
    await expect.poll(async () => (await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } })).lastHealthAt).not.toBeNull();

    const wrong = await createNode(db.prisma, 'SKYPILOT', { port: keyed.port }, { apiKey: 'cicn_another_key' });
    await enqueue(lifecycle(), 'node.launch', { nodeId: wrong.id });
    const failed = await waitForStatus(db.prisma, wrong.id, ['READY', 'FAILED']);
    expect(failed.status).toBe('FAILED');
    expect(failed.statusReason).toBe("vLLM refused the node's API key: GET /v1/models answered 401");
  });

  it('a node that never answers /health fails after NODE_READY_TIMEOUT_SECONDS', async () => {
    const node = await createNode(db.prisma, 'SKYPILOT', { port: 9 });
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    const failed = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
    expect(failed.status).toBe('FAILED');
    expect(failed.statusReason).toMatch(/vLLM did not become ready/);
  });

  it('a hanging `sky launch` hits its timeout and is killed', async () => {
    sky.control({ hang: ['launch'] });
    const node = await createNode(db.prisma, 'SKYPILOT');
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    const failed = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
    expect(failed.statusReason).toBe('sky launch timed out');
  });

  it('the same launch enqueued twice launches once', async () => {
    const node = await createNode(db.prisma, 'SKYPILOT', { port: sim.port });
    const before = sky.calls().filter((a) => a[0] === 'launch').length;
    await Promise.all([enqueue(lifecycle(), 'node.launch', { nodeId: node.id }), enqueue(lifecycle(), 'node.launch', { nodeId: node.id })]);
    await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id }); // after completion: the handler sees READY and does nothing
    await new Promise((r) => setTimeout(r, 500));
    expect(sky.calls().filter((a) => a[0] === 'launch').length - before).toBe(1);
    expect((await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } })).status).toBe('READY');
  });

  it('reconcile fails a READY node whose cluster vanished and reports orphan clusters', async () => {
    const node = await createNode(db.prisma, 'SKYPILOT', { port: sim.port });
    await enqueue(lifecycle(), 'node.launch', { nodeId: node.id });
    await waitForStatus(db.prisma, node.id, ['READY']);
    rmSync(`${sky.dir}/clusters/${node.clusterName}.json`);
    writeFileSync(`${sky.dir}/clusters/cic-stray.json`, JSON.stringify({ name: 'cic-stray', status: 'UP', accelerators: 'A100:1' }));
    const result = await handleReconcile(workers.handlerContext(AbortSignal.timeout(10_000)));
    expect(result.orphans).toContain('cic-stray');
    expect(await workers.registry.getSingleMetricAsString('cic_orphan_clusters')).toMatch(/^cic_orphan_clusters [1-9]/m);
    const failed = await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } });
    expect(failed.status).toBe('FAILED');
    expect(failed.statusReason).toBe(`cluster ${node.clusterName} no longer exists in sky status`);
  });
});
