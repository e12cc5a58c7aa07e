// npm start restarts a crashed worker; a local launch that worker left half done must not keep the boot
// node waiting until BullMQ hands the stalled job on (lock expiry + stalled check: about a minute).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@cic/db/testing';
import { launchNode } from '@cic/core/nodes/launch-node';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureModel, MODEL, testConfig, waitForStatus } from './harness.ts';

const JOBS_DIR = fileURLToPath(new URL('..', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const NODE_LIFECYCLE_QUEUE = 'node-lifecycle';
let db: TestDatabase;
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await db?.drop();
});

function output(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes(text)) resolve(); });
    child.once('exit', (code) => reject(new Error(`exited (${code}) before printing ${text}`)));
  });
}

describe('LOCAL_NODE_AT_BOOT after a worker crash mid-launch', () => {
  it('the interrupted local launch is marked FAILED by the next worker at boot, which launches a new node at once', async () => {
    // Default lock duration and stalled interval (30 s each): BullMQ alone would take about a minute.
    const config = testConfig(db.url, { LOCAL_NODE_AT_BOOT: 'true' });
    const connection = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(NODE_LIFECYCLE_QUEUE, { connection, prefix: config.BULLMQ_PREFIX });
    try {
      await ensureModel(db.prisma);
      const node = await launchNode({ prisma: db.prisma, queue, actor: { type: 'SYSTEM', id: 'test' }, requestId: 'test', modelName: MODEL, provider: 'LOCAL' });
      // A worker process that takes the launch and dies in the middle of it (killed with -9).
      const taker = spawn(process.execPath, ['--input-type=module', '-e', [
        "import { Worker } from 'bullmq';",
        "import { Redis } from 'ioredis';",
        `const connection = new Redis(${JSON.stringify(config.REDIS_URL)}, { maxRetriesPerRequest: null });`,
        `new Worker(${JSON.stringify(NODE_LIFECYCLE_QUEUE)}, async () => { console.log('taken'); await new Promise(() => {}); }, { connection, prefix: ${JSON.stringify(config.BULLMQ_PREFIX)} });`,
      ].join('\n')], { cwd: JOBS_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(taker);
      await output(taker, 'taken');
      await db.prisma.node.update({ where: { id: node.id }, data: { status: 'PROVISIONING' } }); // the launch's first step
      taker.kill('SIGKILL');
      await new Promise((r) => taker.once('exit', r));
      expect(await (await queue.getJob(`launch-${node.id}`))!.getState()).toBe('active'); // still locked by the dead worker

      // The restarted worker (its real entry point, as npm start runs it).
      const env = { ...process.env, ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)])), LOG_LEVEL: 'info' };
      const worker = spawn(process.execPath, ['--import', 'tsx', MAIN], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(worker);
      await output(worker, 'job workers started');
      try {
        const stale = await db.prisma.node.findUniqueOrThrow({ where: { id: node.id } });
        expect(stale.status).toBe('FAILED');
        expect(stale.statusReason).toBe('launch interrupted: the job worker running it exited');
        const fresh = await db.prisma.node.findFirstOrThrow({ where: { id: { not: node.id } } });
        expect(fresh.provider).toBe('LOCAL');
        expect((await waitForStatus(db.prisma, fresh.id, ['READY', 'FAILED'])).status).toBe('READY');
      } finally {
        const exited = new Promise((r) => worker.once('exit', r));
        worker.kill('SIGTERM');
        await exited;
      }
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }, 60_000);
});
