import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@cic/db/testing';
import { createSimulator, type Simulator } from '@cic/vllm-sim';
import { enqueue } from '@cic/core/jobs/enqueue-job';
import { NODE_LIFECYCLE_QUEUE } from '@cic/core/jobs/job-catalog';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from '../../scripts/lib/redis.mjs';
import { isAlive } from '../src/providers/local-provider.ts';
import { createNode, fakeSkyState, MODEL, startTestWorkers, testConfig, waitForStatus } from './harness.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let db: TestDatabase;
let sim: Simulator;
const sky = fakeSkyState();
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await createSimulator({ model: MODEL });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await sim?.close();
  await db?.drop();
  sky.remove();
});

/** Runs the real worker entry point (jobs/src/main.ts) as a child process. */
function runWorker(config: ReturnType<typeof testConfig>): Promise<ChildProcess> {
  // TMPDIR inside the fake-sky state dir: a worker killed with -9 leaves its task file behind.
  const env = { ...process.env, ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)])), LOG_LEVEL: 'info', TMPDIR: sky.dir };
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('job workers started')) resolve(child); });
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

/** Enqueues a SKYPILOT launch, SIGTERMs the worker once `sky launch` runs, and waits for it to exit 0. */
async function sigtermMidLaunch(worker: ChildProcess, queue: Queue) {
  const node = await createNode(db.prisma, 'SKYPILOT', { port: sim.port });
  await enqueue(queue, 'node.launch', { nodeId: node.id });
  while (!sky.calls().some((a) => a[0] === 'launch' && a[2] === node.clusterName)) await new Promise((r) => setTimeout(r, 50));
  const exited = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
  worker.kill('SIGTERM');
  expect(await exited).toBe(0);
  return node;
}

describe('crash recovery', () => {
  it('kill -9 of a worker mid-launch: the stalled job is retried and the node ends READY with one cluster', async () => {
    const config = testConfig(db.url, { JOBS_LOCK_DURATION_MS: '1500', JOBS_STALLED_INTERVAL_MS: '500', RECONCILE_INTERVAL_MS: '3600000' });
    sky.control({ launchDelayMs: 2_000 });
    const first = await runWorker(config);
    const queue = new Queue(NODE_LIFECYCLE_QUEUE, { connection: new Redis(config.REDIS_URL, { maxRetriesPerRequest: null }), prefix: config.BULLMQ_PREFIX });
    const node = await createNode(db.prisma, 'SKYPILOT', { port: sim.port });
    await enqueue(queue, 'node.launch', { nodeId: node.id });
    while (!sky.calls().some((a) => a[0] === 'launch' && a[2] === node.clusterName)) await new Promise((r) => setTimeout(r, 50));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect((await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } })).status).toBe('PROVISIONING');

    const second = startTestWorkers(config);
    await second.start();
    try {
      const ready = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
      expect(ready.status).toBe('READY');
      const launches = sky.calls().filter((a) => a[0] === 'launch' && a[2] === node.clusterName);
      expect(launches).toHaveLength(2); // the crashed attempt and the retry, on the same cluster name
      expect(sky.clusters()).toEqual([expect.objectContaining({ name: node.clusterName, status: 'UP' })]);
      const messages = (await db.prisma.nodeEvent.findMany({ where: { nodeId: node.id } })).map((e) => e.message);
      expect(messages).toContain('resuming launch from PROVISIONING (attempt after a failure or worker restart)');
      expect(messages.filter((m) => m.startsWith('Launching on an existing cluster'))).toHaveLength(1);
    } finally {
      await second.stop();
      await queue.close();
      await (queue.opts.connection as Redis).quit();
    }
  });

  it('kill -9 of a worker takes its local simulators along, and the next worker marks their nodes FAILED', async () => {
    const config = testConfig(db.url);
    const first = await runWorker(config);
    const queue = new Queue(NODE_LIFECYCLE_QUEUE, { connection: new Redis(config.REDIS_URL, { maxRetriesPerRequest: null }), prefix: config.BULLMQ_PREFIX });
    let second: ChildProcess | undefined;
    try {
      const node = await createNode(db.prisma, 'LOCAL');
      await enqueue(queue, 'node.launch', { nodeId: node.id });
      const ready = await waitForStatus(db.prisma, node.id, ['READY', 'FAILED']);
      expect(ready.status).toBe('READY');
      const pid = (ready.config as { localPid?: number }).localPid!;
      expect(isAlive(pid)).toBe(true);
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      // No orphan keeps serving: the simulator saw its stdin close and stopped.
      await expect.poll(() => isAlive(pid), { timeout: 10_000 }).toBe(false);
      second = await runWorker(config);
      const failed = await waitForStatus(db.prisma, node.id, ['FAILED']);
      expect(failed.statusReason).toContain(`simulator process ${pid} is gone`);
    } finally {
      if (second) {
        const exited = new Promise((r) => second!.once('exit', r));
        second.kill('SIGTERM');
        await exited;
      }
      await queue.close();
      await (queue.opts.connection as Redis).quit();
    }
  });

  it('SIGTERM lets an in-flight launch finish before the worker exits', async () => {
    const config = testConfig(db.url);
    sky.control({ launchDelayMs: 1_500 });
    const worker = await runWorker(config);
    const queue = new Queue(NODE_LIFECYCLE_QUEUE, { connection: new Redis(config.REDIS_URL, { maxRetriesPerRequest: null }), prefix: config.BULLMQ_PREFIX });
    try {
      const node = await sigtermMidLaunch(worker, queue);
      expect((await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } })).status).toBe('READY');
    } finally {
      await queue.close();
      await (queue.opts.connection as Redis).quit();
    }
  });

  it('SIGTERM past the grace period hands the launch back: the node is not failed, and the next worker finishes it at once', async () => {
    // Locks and stall checks far longer than the test: only a job handed back to the queue is picked up in time.
    const config = testConfig(db.url, { SHUTDOWN_GRACE_SECONDS: '1', JOBS_LOCK_DURATION_MS: '600000', JOBS_STALLED_INTERVAL_MS: '600000' });
    sky.control({ launchDelayMs: 60_000 });
    const worker = await runWorker(config);
    const queue = new Queue(NODE_LIFECYCLE_QUEUE, { connection: new Redis(config.REDIS_URL, { maxRetriesPerRequest: null }), prefix: config.BULLMQ_PREFIX });
    const second = startTestWorkers(config);
    try {
      const node = await sigtermMidLaunch(worker, queue);
      expect((await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } })).status).toBe('PROVISIONING');
      expect(await queue.getJobCounts('wait', 'active', 'failed')).toEqual({ wait: 1, active: 0, failed: 0 });

      sky.control({});
      await second.start();
      expect((await waitForStatus(db.prisma, node.id, ['READY', 'FAILED'])).status).toBe('READY');
      const messages = (await db.prisma.nodeEvent.findMany({ where: { nodeId: node.id }, orderBy: { createdAt: 'asc' } })).map((e) => e.message);
      expect(messages).toContain('launch interrupted: the worker is stopping; the next attempt resumes from here');
      expect(messages).toContain('resuming launch from PROVISIONING (attempt after a failure or worker restart)');
    } finally {
      await second.stop();
      await queue.close();
      await (queue.opts.connection as Redis).quit();
    }
  });

  it('workers resume after Redis restarts (same port, data lost): new launches run and health checks come back', async () => {
    const server = await startRedis();
    const config = testConfig(db.url, {}, server.url);
    const workers = startTestWorkers(config);
    await workers.start();
    let restarted: ChildProcess | undefined;
    try {
      const before = await createNode(db.prisma, 'STATIC', { baseUrl: sim.url });
      await enqueue(workers.queues[0]!, 'node.launch', { nodeId: before.id });
      expect((await waitForStatus(db.prisma, before.id, ['READY', 'FAILED'])).status).toBe('READY');

      await server.stop();
      await new Promise((r) => setTimeout(r, 500));
      restarted = spawn('redis-server', ['--port', String(server.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
      children.push(restarted);

      const after = await createNode(db.prisma, 'STATIC', { baseUrl: sim.url });
      for (;;) {
        try {
          await enqueue(workers.queues[0]!, 'node.launch', { nodeId: after.id });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      expect((await waitForStatus(db.prisma, after.id, ['READY', 'FAILED'])).status).toBe('READY');
      const mark = new Date();
      for (;;) {
        const n = await db.prisma.node.findUniqueOrThrow({ where: { id: before.id } });
        if (n.lastHealthAt && n.lastHealthAt > mark) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await workers.stop();
      if (restarted?.pid && isAlive(restarted.pid)) {
        restarted.kill('SIGTERM');
        await new Promise((r) => restarted!.once('exit', r));
      }
    }
  });
});
