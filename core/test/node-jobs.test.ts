import { randomUUID } from 'node:crypto';
import { testRedis } from '@cic/db/testing';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { enqueueNodeLaunch, enqueueNodeTerminate, nodeLaunchJobId, nodeTerminateJobId } from '../src/nodes/node-jobs.ts';

const { url, prefix } = testRedis();
const connection = new Redis(url, { maxRetriesPerRequest: null });
const name = `test-${randomUUID()}`;
const queue = new Queue(name, { connection, prefix });
afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
});

/** Runs the queue's jobs with `outcome` until `done` resolves, like a worker would. */
async function runJobs(outcome: 'complete' | 'fail', done: () => Promise<unknown>) {
  const worker = new Worker(name, async () => {
    if (outcome === 'fail') throw new Error('teardown failed');
    return 'ok';
  }, { connection: connection.duplicate(), prefix });
  try {
    await done();
  } finally {
    await worker.close();
  }
}

describe('node lifecycle jobs', () => {
  it('launches once per node, with retries and expiry', async () => {
    await enqueueNodeLaunch(queue, 'node_a');
    await enqueueNodeLaunch(queue, 'node_a');
    expect((await queue.getJobs(['waiting'])).filter((j) => j.id === nodeLaunchJobId('node_a'))).toHaveLength(1);
    expect((await queue.getJob(nodeLaunchJobId('node_a')))?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 5_000 } });
  });

  it.each(['complete', 'fail'] as const)('a new terminate request runs again after the previous one finished (%s)', async (outcome) => {
    const nodeId = `node_${outcome}`;
    const jobId = nodeTerminateJobId(nodeId);
    await enqueueNodeTerminate(queue, nodeId, { backoffDelayMs: 1 });
    await enqueueNodeTerminate(queue, nodeId, { backoffDelayMs: 1 }); // while queued: still one job
    await runJobs(outcome, async () => {
      for (;;) {
        const state = await (await queue.getJob(jobId))?.getState();
        if (state === (outcome === 'complete' ? 'completed' : 'failed')) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    await enqueueNodeTerminate(queue, nodeId);
    expect(await (await queue.getJob(jobId))?.getState()).toBe('waiting');
  });
});
