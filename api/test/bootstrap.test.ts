import { createTestDatabase, type TestDatabase } from '@cic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, keyMatchesHash, parseKey } from '@cic/core/api-keys/key-format';
import { bootstrapPlatform } from '@cic/core/bootstrap/bootstrap-platform';
import { DEFAULT_MODELS } from '@cic/core/bootstrap/default-models';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

describe('key format', () => {
  it('generates keys that parse and verify, storing only a hash', () => {
    const key = generateKey();
    expect(key.secret).toMatch(/^cic_[A-Za-z0-9]{12}_[A-Za-z0-9]{32}$/);
    expect(parseKey(key.secret)).toEqual({ prefix: key.prefix });
    expect(key.secretHash).not.toContain(key.secret.slice(17));
    expect(keyMatchesHash(key.secret, key.secretHash)).toBe(true);
    expect(keyMatchesHash(`${key.secret.slice(0, -1)}x`, key.secretHash)).toBe(false);
    expect(parseKey('sk-not-ours')).toBeNull();
  });
});

describe('bootstrapPlatform', () => {
  it('creates an admin, an organization and a key once, and converges on re-runs', async () => {
    const first = await bootstrapPlatform({ prisma: db.prisma, adminEmail: 'ops@example.com', models: DEFAULT_MODELS });
    expect(first.createdKey).toMatch(/^cic_/);
    const second = await bootstrapPlatform({ prisma: db.prisma, adminEmail: 'ops@example.com', models: DEFAULT_MODELS });
    expect(second).toEqual({ ...first, createdKey: null });
    // Stored as sign-in looks it up (lower case): another spelling is the same admin, not a second one.
    const spelled = await bootstrapPlatform({ prisma: db.prisma, adminEmail: ' Ops@Example.COM ', models: DEFAULT_MODELS });
    expect(spelled).toEqual({ ...first, createdKey: null });
    expect(await db.prisma.user.count()).toBe(1);

    const user = await db.prisma.user.findUniqueOrThrow({ where: { email: 'ops@example.com' }, include: { memberships: true } });
    expect(user.isPlatformAdmin).toBe(true);
    expect(user.id).toMatch(/^usr_[0-9a-f]{32}$/);
    expect(user.memberships).toEqual([expect.objectContaining({ role: 'OWNER', organizationId: first.organizationId })]);
    expect(first.organizationId).toMatch(/^org_/);
    const keys = await db.prisma.apiKey.findMany({ where: { organizationId: first.organizationId } });
    expect(keys).toHaveLength(1);
    expect(keyMatchesHash(first.createdKey!, keys[0]!.secretHash)).toBe(true);
    expect(JSON.stringify(keys)).not.toContain(first.createdKey!.split('_')[2]);
    expect(await db.prisma.servedModel.count()).toBe(DEFAULT_MODELS.length);

    const ledger = await db.prisma.ledgerEntry.findMany({ where: { organizationId: first.organizationId } });
    expect(ledger).toEqual([expect.objectContaining({ type: 'ADJUSTMENT', amountMicros: 10_000_000n })]);
    const account = await db.prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: first.organizationId } });
    expect(account.balanceMicros).toBe(10_000_000n);
  });

  it('ensures an exact BOOTSTRAP_API_KEY, idempotently', async () => {
    const wanted = generateKey().secret;
    const a = await bootstrapPlatform({ prisma: db.prisma, adminEmail: 'demo@example.com', apiKey: wanted, models: [] });
    const b = await bootstrapPlatform({ prisma: db.prisma, adminEmail: 'demo@example.com', apiKey: wanted, models: [] });
    expect(a.apiKeyId).toBe(b.apiKeyId);
    expect(a.createdKey).toBeNull();
    const key = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: a.apiKeyId } });
    expect(keyMatchesHash(wanted, key.secretHash)).toBe(true);
  });

  it('refuses a malformed key and one owned by another organization', async () => {
    await expect(bootstrapPlatform({ prisma: db.prisma, adminEmail: 'x@example.com', apiKey: 'sk-123', models: [] })).rejects.toThrow(/not a CIC key/);
    const taken = generateKey().secret;
    await bootstrapPlatform({ prisma: db.prisma, adminEmail: 'first@example.com', apiKey: taken, models: [] });
    await expect(bootstrapPlatform({ prisma: db.prisma, adminEmail: 'second@example.com', apiKey: taken, models: [] })).rejects.toThrow(/another organization/);
  });
});
