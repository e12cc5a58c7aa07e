import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserViewer } from '@cic/core/auth/viewer';
import { adjustCredits } from '@cic/core/billing/adjust-credits';
import { updateModelPrice } from '@cic/core/billing/update-model-price';
import { createBillingWorld, keyViewer, userViewer, type BillingWorld } from './billing-fixture.ts';

let w: BillingWorld;
let admin: UserViewer;

beforeAll(async () => {
  w = await createBillingWorld();
  admin = userViewer({ userId: (await w.createUser({ admin: true })).id, admin: true });
});
afterAll(async () => {
  await w?.close();
});

describe('adjustCredits', () => {
  it('posts an audited ADJUSTMENT and publishes billingChanged', async () => {
    const org = await w.createOrg();
    const messages: unknown[] = [];
    w.onClose(async () => off());
    const off = w.bus.subscribe('billingChanged', org.id, (payload) => messages.push(payload));
    await w.bus.settled();

    const result = await adjustCredits({ prisma: w.prisma, bus: w.bus, viewer: admin, organizationId: org.id, amountMicros: 7_000_000n, reason: 'Manual grant for a pilot', requestId: 'req_adj' });
    expect(result).toMatchObject({ inserted: true, balanceMicros: 7_000_000n });
    const [entry] = await w.prisma.ledgerEntry.findMany({ where: { organizationId: org.id } });
    expect(entry).toMatchObject({ type: 'ADJUSTMENT', amountMicros: 7_000_000n, description: 'Manual grant for a pilot', createdById: admin.userId });
    const audit = await w.prisma.auditLog.findFirstOrThrow({ where: { organizationId: org.id, action: 'billing.adjust_credits' } });
    expect(audit).toMatchObject({ actorType: 'USER', actorId: admin.userId, requestId: 'req_adj', metadata: expect.objectContaining({ amountMicros: '7000000', reason: 'Manual grant for a pilot' }) });
    await w.eventually(() => messages.length > 0);
    expect(messages[0]).toMatchObject({ organizationId: org.id, balanceMicros: '7000000', frozen: false });
  });

  it('posts once for a retried request with the same idempotency key; negative corrections work', async () => {
    const org = await w.createOrg({ balanceMicros: 0n });
    const opts = { prisma: w.prisma, bus: w.bus, viewer: admin, organizationId: org.id, amountMicros: 3_000_000n, reason: 'grant', idempotencyKey: 'k1' };
    await adjustCredits(opts);
    expect((await adjustCredits(opts)).inserted).toBe(false);
    await adjustCredits({ ...opts, amountMicros: -1_000_000n, reason: 'correction', idempotencyKey: 'k2' });
    expect(await w.balanceOf(org.id)).toBe(2_000_000n);
    expect(await w.prisma.auditLog.count({ where: { organizationId: org.id, action: 'billing.adjust_credits' } })).toBe(2);
  });

  it('refuses non-admins: owners of the organization and its API keys', async () => {
    const org = await w.createOrg();
    for (const viewer of [userViewer({ roles: { [org.id]: 'OWNER' } }), keyViewer(org.id)]) {
      await expect(adjustCredits({ prisma: w.prisma, bus: w.bus, viewer, organizationId: org.id, amountMicros: 1n, reason: 'self grant' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(await w.prisma.ledgerEntry.count({ where: { organizationId: org.id } })).toBe(0);
  });

  it.each([
    [0n, 'a reason', 'amountMicros'],
    [10n ** 13n, 'a reason', 'amountMicros'],
    [5n, '  ', 'reason'],
  ])('refuses amount %s / reason %j (BAD_REQUEST on %s)', async (amountMicros, reason, param) => {
    const org = await w.createOrg();
    await expect(adjustCredits({ prisma: w.prisma, bus: w.bus, viewer: admin, organizationId: org.id, amountMicros, reason })).rejects.toMatchObject({ code: 'BAD_REQUEST', param });
  });

  it('answers NOT_FOUND for an unknown organization', async () => {
    await expect(adjustCredits({ prisma: w.prisma, bus: w.bus, viewer: admin, organizationId: 'org_nope', amountMicros: 1n, reason: 'grant' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('updateModelPrice', () => {
  it('changes prices and audits old and new values', async () => {
    const model = await w.prisma.servedModel.create({ data: { name: `m-${Date.now()}`, promptPriceMicros: 100n, completionPriceMicros: 200n } });
    const updated = await updateModelPrice({ prisma: w.prisma, viewer: admin, modelId: model.id, completionPriceMicros: 900_000n, requestId: 'req_price' });
    expect(updated).toMatchObject({ promptPriceMicros: 100n, completionPriceMicros: 900_000n });
    const audit = await w.prisma.auditLog.findFirstOrThrow({ where: { action: 'model.update_price', targetId: model.id } });
    expect(audit).toMatchObject({ actorId: admin.userId, requestId: 'req_price' });
    expect(audit.metadata).toMatchObject({ from: { promptPriceMicros: '100', completionPriceMicros: '200' }, to: { promptPriceMicros: '100', completionPriceMicros: '900000' } });
  });

  it('refuses non-admins, negative or absurd prices, empty changes and unknown models', async () => {
    const model = await w.prisma.servedModel.create({ data: { name: `n-${Date.now()}` } });
    const base = { prisma: w.prisma, viewer: admin, modelId: model.id };
    await expect(updateModelPrice({ ...base, viewer: userViewer(), promptPriceMicros: 1n })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(updateModelPrice({ ...base, promptPriceMicros: -1n })).rejects.toMatchObject({ code: 'BAD_REQUEST', param: 'promptPriceMicros' });
    await expect(updateModelPrice({ ...base, completionPriceMicros: 10n ** 10n })).rejects.toMatchObject({ code: 'BAD_REQUEST', param: 'completionPriceMicros' });
    await expect(updateModelPrice(base)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(updateModelPrice({ ...base, modelId: 'mdl_nope', promptPriceMicros: 1n })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await w.prisma.servedModel.findUniqueOrThrow({ where: { id: model.id } })).toMatchObject({ promptPriceMicros: 0n, completionPriceMicros: 0n });
  });
});
