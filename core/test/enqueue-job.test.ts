import { randomUUID } from 'node:crypto';
import { testRedis } from '@cic/db/testing';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { enqueue, isJobPending, WrongJobQueueError } from '../src/jobs/enqueue-job.ts';
import { jobIdOf, NODE_LIFECYCLE_QUEUE } from '../src/jobs/job-catalog.ts';

const { url, prefix } = testRedis();
const connection = new Redis(url, { maxRetriesPerRequest: null });
// The real queue name (enqueue checks it against the catalog) under a prefix of this test file's own.
const queuePrefix = `${prefix}:${randomUUID()}`;
const queue = new Queue(NODE_LIFECYCLE_QUEUE, { connection, prefix: queuePrefix });
afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
});

/** Runs the queue's jobs with `outcome` until `done` resolves, like a worker would. */
async function runJobs(outcome: 'complete' | 'fail', done: () => Promise<unknown>) {
  const worker = new Worker(NODE_LIFECYCLE_QUEUE, async () => {
    if (outcome === 'fail') throw new Error('teardown failed');
    return 'ok';
  }, { connection: connection.duplicate(), prefix: queuePrefix });
  try {
    await done();
  } finally {
    await worker.close();
  }
}

describe('enqueue', () => {
  it('launches once per node, with the id, retries and retention of the catalog', async () => {
    await enqueue(queue, 'node.launch', { nodeId: 'node_a' });
    await enqueue(queue, 'node.launch', { nodeId: 'node_a' });
    expect((await queue.getJobs(['waiting'])).filter((j) => j.name === 'node.launch')).toHaveLength(1);
    const job = await queue.getJob('launch-node_a');
    expect(job?.data).toEqual({ nodeId: 'node_a' });
    expect(job?.opts).toMatchObject({
      attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 },
    });
  });

  it('refuses a payload its schema rejects, and adds nothing', async () => {
    // @ts-expect-error: the payload type comes from the catalog's schema
    await expect(enqueue(queue, 'node.launch', { node: 'node_b' })).rejects.toBeInstanceOf(ZodError);
    await expect(enqueue(queue, 'node.terminate', { nodeId: 'org_not-a-node' })).rejects.toBeInstanceOf(ZodError);
    expect(await queue.getJob('terminate-org_not-a-node')).toBeUndefined();
  });

  it('refuses a queue the catalog does not put the job on', async () => {
    const other = new Queue('maintenance', { connection, prefix: queuePrefix });
    try {
      await expect(enqueue(other, 'node.launch', { nodeId: 'node_c' })).rejects.toBeInstanceOf(WrongJobQueueError);
      await expect(enqueue(queue, 'usage.rollup', {})).rejects.toMatchObject({ name: 'WrongJobQueueError', expected: 'maintenance' });
      expect(await other.getJobCounts('waiting')).toEqual({ waiting: 0 });
    } finally {
      await other.close();
    }
  });

  it.each(['complete', 'fail'] as const)('a new terminate request runs again after the previous one finished (%s)', async (outcome) => {
    const nodeId = `node_${outcome}`;
    const jobId = jobIdOf('node.terminate', { nodeId })!;
    expect(jobId).toBe(`terminate-${nodeId}`);
    await enqueue(queue, 'node.terminate', { nodeId }, { backoffDelayMs: 1 });
    await enqueue(queue, 'node.terminate', { nodeId }, { backoffDelayMs: 1 }); // while queued: still one job
    expect(await isJobPending(queue, 'node.terminate', { nodeId })).toBe(true);
    expect((await queue.getJob(jobId))?.opts).toMatchObject({ attempts: 5, backoff: { type: 'exponential', delay: 1 } });
    await runJobs(outcome, async () => {
      for (;;) {
        const state = await (await queue.getJob(jobId))?.getState();
        if (state === (outcome === 'complete' ? 'completed' : 'failed')) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    expect(await isJobPending(queue, 'node.terminate', { nodeId })).toBe(false);
    await enqueue(queue, 'node.terminate', { nodeId });
    expect(await (await queue.getJob(jobId))?.getState()).toBe('waiting');
    expect(await isJobPending(queue, 'node.terminate', { nodeId })).toBe(true);
  });
});
