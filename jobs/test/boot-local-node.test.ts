import { spawn } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '@cic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../src/providers/local-provider.ts';
import { ensureModel, MODEL, startTestWorkers, testConfig, waitForStatus } from './harness.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await ensureModel(db.prisma);
});
afterAll(() => db?.drop());

describe('LOCAL_NODE_AT_BOOT (npm start)', () => {
  it('launches one local node for the default model through node.launch, not a second one, and stops it with the worker', async () => {
    const config = testConfig(db.url, { LOCAL_NODE_AT_BOOT: 'true' });
    const first = startTestWorkers(config);
    await first.start();
    const second = startTestWorkers({ ...config, JOBS_PORT: 0 });
    try {
      const [created] = await db.prisma.node.findMany({ where: { model: { name: MODEL } } });
      expect(created).toMatchObject({ provider: 'LOCAL' });
      const ready = await waitForStatus(db.prisma, created!.id, ['READY', 'FAILED']);
      expect(ready.status).toBe('READY');
      expect(await db.prisma.auditLog.count({ where: { action: 'node.launch', targetId: created!.id } })).toBe(1);
      await second.start();
      expect(await db.prisma.node.count()).toBe(1);
      await second.stop();
      const pid = (ready.config as { localPid: number }).localPid;
      await first.stop();
      expect(isAlive(pid)).toBe(false);
      const stopped = await db.prisma.node.findUniqueOrThrow({ where: { id: created!.id } });
      expect(stopped.status).toBe('TERMINATED');
      expect(stopped.statusReason).toBe('job worker stopped: local simulator stopped with it');
    } finally {
      await Promise.allSettled([first.stop(), second.stop()]);
    }
  });

  it('after a worker crash: the stale READY local node (simulator gone) is marked FAILED and a new one is launched', async () => {
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.once('exit', r));
    const model = await ensureModel(db.prisma);
    const stale = await db.prisma.node.create({
      data: { provider: 'LOCAL', modelId: model.id, clusterName: 'cic-stale-local', status: 'READY', endpointUrl: 'http://127.0.0.1:9', config: { localPid: gone.pid } },
    });
    const workers = startTestWorkers(testConfig(db.url, { LOCAL_NODE_AT_BOOT: 'true' }));
    await workers.start();
    try {
      const old = await db.prisma.node.findUniqueOrThrow({ where: { id: stale.id } });
      expect(old.status).toBe('FAILED');
      expect(old.statusReason).toBe(`simulator process ${gone.pid} is gone (worker restarted or process died)`);
      const fresh = await db.prisma.node.findFirstOrThrow({ where: { id: { not: stale.id }, status: { notIn: ['TERMINATED', 'FAILED'] } } });
      expect((await waitForStatus(db.prisma, fresh.id, ['READY', 'FAILED'])).status).toBe('READY');
    } finally {
      await workers.stop();
    }
  });
});
