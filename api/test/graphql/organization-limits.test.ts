import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphQLWorld, gql } from './graphql-fixture.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let a: Awaited<ReturnType<typeof world.tenant>>;
let b: Awaited<ReturnType<typeof world.tenant>>;

// Explicit platform settings, so the expectations do not depend on the defaults.
const PLATFORM = { RATE_LIMIT_DEFAULT_RPM: '60', RATE_LIMIT_DEFAULT_TPM: '100000', RATE_LIMIT_MAX_RPM: '1000', RATE_LIMIT_MAX_TPM: '2000000' };

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  b = await world.tenant('Bolt');
  url = (await world.startApi(PLATFORM)).url;
});
afterAll(async () => {
  await world?.close();
});

interface Limits { maxRpm: number; maxTpm: number; defaultRpm: number; defaultTpm: number }
const SET = 'mutation($input: SetOrganizationLimitsInput!) { setOrganizationLimits(input: $input) { id rateLimits { maxRpm maxTpm defaultRpm defaultTpm } } }';
const READ = 'query($id: ID!) { organization(id: $id) { rateLimits { maxRpm maxTpm defaultRpm defaultTpm } } }';
const CREATE = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id rpmLimit tpmLimit } } }';
const UPDATE = 'mutation($input: UpdateApiKeyLimitsInput!) { updateApiKeyLimits(input: $input) { id rpmLimit tpmLimit } }';
const ROTATE = 'mutation($id: ID!) { rotateApiKey(id: $id) { apiKey { id rpmLimit tpmLimit } } }';
type Created = { createApiKey: { apiKey: { id: string; rpmLimit: number | null; tpmLimit: number | null } } };

const setLimits = (organizationId: string, limits: Partial<Record<keyof Limits, number | null>>, auth = world.adminToken) =>
  gql<{ setOrganizationLimits: { id: string; rateLimits: Limits } }>(url, SET, { input: { organizationId, ...limits } }, { auth });

describe('setOrganizationLimits', () => {
  it('platform admins set ceilings and defaults (audited with from/to); null gives a setting back to the platform', async () => {
    const r = await setLimits(a.org.id, { maxRpm: 100, maxTpm: 50_000, defaultRpm: 20 });
    expect(r.errors).toBeUndefined();
    // The default TPM (platform: 100,000) is never above the ceiling.
    expect(r.data?.setOrganizationLimits.rateLimits).toEqual({ maxRpm: 100, maxTpm: 50_000, defaultRpm: 20, defaultTpm: 50_000 });
    const audit = await world.prisma.auditLog.findFirst({ where: { action: 'organization.set_limits', targetId: a.org.id }, orderBy: { createdAt: 'desc' } });
    expect(audit).toMatchObject({ actorType: 'USER', actorId: world.admin.id, organizationId: a.org.id });
    expect(audit?.metadata).toMatchObject({ from: { maxRpm: null, maxTpm: null, defaultRpm: null }, to: { maxRpm: 100, maxTpm: 50_000, defaultRpm: 20, defaultTpm: null } });
    // Members read their organization's limits; omitted fields stay as they were.
    const read = await gql<{ organization: { rateLimits: Limits } }>(url, READ, { id: a.org.id }, { auth: a.memberToken });
    expect(read.data?.organization.rateLimits).toEqual({ maxRpm: 100, maxTpm: 50_000, defaultRpm: 20, defaultTpm: 50_000 });
    const back = await setLimits(a.org.id, { maxTpm: null });
    expect(back.data?.setOrganizationLimits.rateLimits).toEqual({ maxRpm: 100, maxTpm: 2_000_000, defaultRpm: 20, defaultTpm: 100_000 });
    // Another organization keeps the platform's.
    expect((await gql<{ organization: { rateLimits: Limits } }>(url, READ, { id: b.org.id }, { auth: b.ownerToken })).data?.organization.rateLimits)
      .toEqual({ maxRpm: 1_000, maxTpm: 2_000_000, defaultRpm: 60, defaultTpm: 100_000 });
  });

  it('owners, members, keys and other tenants cannot set limits; nothing changes', async () => {
    const before = await world.prisma.organization.findUniqueOrThrow({ where: { id: a.org.id } });
    expect((await setLimits(a.org.id, { maxRpm: 1_000_000 }, a.ownerToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await setLimits(a.org.id, { maxRpm: 1_000_000 }, a.memberToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await setLimits(a.org.id, { maxRpm: 1_000_000 }, a.apiKey.secret)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await setLimits(a.org.id, { maxRpm: 1_000_000 }, b.ownerToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(url, SET, { input: { organizationId: a.org.id, maxRpm: 5 } })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await world.prisma.organization.findUniqueOrThrow({ where: { id: a.org.id } })).toEqual(before);
  });

  it('refuses a default above the ceiling, non-positive values and unknown organizations', async () => {
    const above = await setLimits(b.org.id, { maxRpm: 50, defaultRpm: 51 });
    expect(above.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(above.errors?.[0]?.message).toContain('ceiling of 50 requests per minute');
    expect((await setLimits(b.org.id, { maxTpm: 0 })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await setLimits('org_00000000000000000000000000000000', { maxRpm: 5 })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await world.prisma.organization.findUniqueOrThrow({ where: { id: b.org.id } })).toMatchObject({ maxRpm: null, defaultRpm: null, maxTpm: null });
  });
});

describe('keys under the ceiling', () => {
  it('owners cannot create or update a key above the ceiling (BAD_USER_INPUT naming it); up to it is fine', async () => {
    const org = await world.tenant('Ceil');
    await setLimits(org.org.id, { maxRpm: 100, maxTpm: 50_000 });
    const over = await gql(url, CREATE, { input: { organizationId: org.org.id, name: 'greedy', rpmLimit: 101 } }, { auth: org.ownerToken });
    expect(over.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(over.errors?.[0]?.message).toBe("rpmLimit 101 exceeds this organization's ceiling of 100 requests per minute; a platform admin can raise it.");
    expect(await world.prisma.apiKey.count({ where: { organizationId: org.org.id, name: 'greedy' } })).toBe(0);
    const ok = await gql<Created>(url, CREATE, { input: { organizationId: org.org.id, name: 'fair', rpmLimit: 100, tpmLimit: 50_000 } }, { auth: org.ownerToken });
    expect(ok.errors).toBeUndefined();
    const keyId = ok.data!.createApiKey.apiKey.id;
    const update = await gql(url, UPDATE, { input: { id: keyId, tpmLimit: 50_001 } }, { auth: org.ownerToken });
    expect(update.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(update.errors?.[0]?.message).toContain('ceiling of 50000 tokens per minute');
    expect(await world.prisma.apiKey.findUniqueOrThrow({ where: { id: keyId } })).toMatchObject({ rpmLimit: 100, tpmLimit: 50_000 });
    // The ceiling binds platform admins acting on the organization too.
    expect((await gql(url, UPDATE, { input: { id: keyId, rpmLimit: 500 } }, { auth: world.adminToken })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('without its own ceiling an organization has the platform ceiling (RATE_LIMIT_MAX_RPM), not an unbounded one', async () => {
    const over = await gql(url, CREATE, { input: { organizationId: b.org.id, name: 'greedy', rpmLimit: 1_001 } }, { auth: b.ownerToken });
    expect(over.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(over.errors?.[0]?.message).toContain('ceiling of 1000 requests per minute');
    const huge = await gql(url, UPDATE, { input: { id: b.apiKey.id, tpmLimit: 2_000_001 } }, { auth: b.ownerToken });
    expect(huge.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('a raised ceiling lets keys go higher than the platform ceiling', async () => {
    const org = await world.tenant('Big');
    await setLimits(org.org.id, { maxRpm: 5_000 });
    const r = await gql<Created>(url, CREATE, { input: { organizationId: org.org.id, name: 'big', rpmLimit: 5_000 } }, { auth: org.ownerToken });
    expect(r.errors).toBeUndefined();
    expect(r.data?.createApiKey.apiKey.rpmLimit).toBe(5_000);
  });

  it('rotating a key above a lowered ceiling brings its limit down to the ceiling (never refused)', async () => {
    const org = await world.tenant('Rot');
    const created = (await gql<Created>(url, CREATE, { input: { organizationId: org.org.id, name: 'rot', rpmLimit: 500, tpmLimit: 1_000 } }, { auth: org.ownerToken })).data!.createApiKey.apiKey;
    await setLimits(org.org.id, { maxRpm: 10 });
    const audit = await world.prisma.auditLog.findFirst({ where: { action: 'organization.set_limits', targetId: org.org.id } });
    expect(audit?.metadata).toMatchObject({ keysAboveCeiling: 1 });
    const rotated = await gql<{ rotateApiKey: { apiKey: { rpmLimit: number; tpmLimit: number } } }>(url, ROTATE, { id: created.id }, { auth: org.ownerToken });
    expect(rotated.errors).toBeUndefined();
    expect(rotated.data?.rotateApiKey.apiKey).toMatchObject({ rpmLimit: 10, tpmLimit: 1_000 });
  });
});
