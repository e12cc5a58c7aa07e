// Who may sign up, and what a new organization gets: the environment's defaults (SIGNUP_POLICY, …) until a
// platform admin saves settings through GraphQL; enforced where accounts are created (the adapter's
// createUser) and told in advance to the dashboard (signUpDecision), an invitation always letting its
// email in. Bad settings are refused with the field named; only platform admins see or change them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig, platformSettingsDefaultsOf } from '../../src/config.ts';
import { createGraphQLWorld, gql } from '../graphql/graphql-fixture.ts';

const SECRET = 'test-internal-auth-secret-0123456789abcdef';
let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let api: Awaited<ReturnType<typeof world.startApi>>;

beforeAll(async () => {
  world = await createGraphQLWorld();
  api = await world.startApi({ INTERNAL_AUTH_SECRET: SECRET, SIGNUP_POLICY: 'invite_only', NEW_ORGANIZATION_CREDIT_USD: '2.5', OPERATOR_CONTACT: 'ops@cic.example' });
});
afterAll(() => world?.close());

async function call<T>(op: string, body: unknown): Promise<{ status: number; body: { result?: T; error?: { message: string } } }> {
  const res = await fetch(`${api.url}/internal/auth/${op}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-cic-internal-auth': SECRET }, body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { result?: T } };
}
const decision = async (email: string) => (await call<{ allowed: boolean; reason: string | null }>('signUpDecision', { email })).body.result!;
const SETTINGS = 'platformSettings { signupPolicy allowedEmailDomains newOrganizationCreditMicros operatorContact }';
const UPDATE = `mutation($i: UpdatePlatformSettingsInput!) { updatePlatformSettings(input: $i) { signupPolicy allowedEmailDomains newOrganizationCreditMicros operatorContact } }`;

describe('sign-up policy and credit for new organizations', () => {
  it('invite-only from the environment: a stranger is refused before and at account creation; an invited email gets in with the credit', async () => {
    expect(await decision('stranger@example.com')).toEqual({ allowed: false, reason: expect.stringContaining('by invitation only') });
    const refused = await call('createUser', { email: 'stranger@example.com' });
    expect(refused.status).toBe(403);
    expect(await world.prisma.user.count({ where: { email: 'stranger@example.com' } })).toBe(0);

    const acme = await world.tenant('Acme');
    await world.prisma.invitation.create({ data: { organizationId: acme.org.id, email: 'guest@example.com', role: 'MEMBER', expiresAt: new Date(Date.now() + 86_400_000) } });
    expect(await decision('Guest@Example.com')).toEqual({ allowed: true, reason: null });
    const created = await call<{ id: string }>('createUser', { email: 'Guest@Example.com' });
    expect(created.status).toBe(200);
    const own = await world.prisma.membership.findFirstOrThrow({ where: { userId: created.body.result!.id, role: 'OWNER' }, include: { organization: { include: { billingAccount: true, ledgerEntries: true } } } });
    expect(own.organization.billingAccount?.balanceMicros).toBe(2_500_000n);
    expect(own.organization.ledgerEntries).toEqual([expect.objectContaining({ type: 'ADJUSTMENT', amountMicros: 2_500_000n, sourceId: `signup-grant:${own.organizationId}` })]);
    // An existing user always signs in, whatever the policy.
    expect(await decision(acme.owner.email)).toEqual({ allowed: true, reason: null });
  });

  it('a platform admin reads and changes the settings (audited); allowed domains then decide, and the new credit applies', async () => {
    const before = await gql<{ platformSettings: unknown }>(api.url, `{ ${SETTINGS} }`, {}, { auth: world.adminToken });
    expect(before.data?.platformSettings).toEqual({ signupPolicy: 'INVITE_ONLY', allowedEmailDomains: [], newOrganizationCreditMicros: '2500000', operatorContact: 'ops@cic.example' });

    const changed = await gql<{ updatePlatformSettings: unknown }>(api.url, UPDATE, { i: { signupPolicy: 'ALLOWED_DOMAINS', allowedEmailDomains: ['Example.ORG', 'example.org', 'lab.example.net'], newOrganizationCreditMicros: '0' } }, { auth: world.adminToken });
    expect(changed.errors).toBeUndefined();
    expect(changed.data?.updatePlatformSettings).toEqual({ signupPolicy: 'ALLOWED_DOMAINS', allowedEmailDomains: ['example.org', 'lab.example.net'], newOrganizationCreditMicros: '0', operatorContact: 'ops@cic.example' });
    const audit = await world.prisma.auditLog.findFirstOrThrow({ where: { action: 'platform_settings.update' } });
    expect(audit).toMatchObject({ actorType: 'USER', actorId: world.admin.id, metadata: { from: { signupPolicy: 'INVITE_ONLY' }, to: { signupPolicy: 'ALLOWED_DOMAINS', newOrganizationCreditMicros: '0' } } });

    expect(await decision('new@example.org')).toEqual({ allowed: true, reason: null });
    expect(await decision('new@example.org.evil.com')).toEqual({ allowed: false, reason: expect.stringContaining('example.org, lab.example.net') });
    const created = await call<{ id: string }>('createUser', { email: 'new@lab.example.net' });
    expect(created.status).toBe(200);
    const own = await world.prisma.membership.findFirstOrThrow({ where: { userId: created.body.result!.id }, include: { organization: { include: { ledgerEntries: true } } } });
    expect(own.organization.ledgerEntries).toEqual([]);
  });

  it('refuses bad settings naming the field, and anyone but a platform admin', async () => {
    const acme = await world.tenant('Beta');
    for (const [i, field] of [
      [{ signupPolicy: 'ALLOWED_DOMAINS', allowedEmailDomains: [] }, 'allowedEmailDomains'],
      [{ allowedEmailDomains: ['not a domain'] }, 'allowedEmailDomains'],
      [{ newOrganizationCreditMicros: '1000000001' }, 'newOrganizationCreditMicros'],
      [{ newOrganizationCreditMicros: '-1' }, 'newOrganizationCreditMicros'],
      [{ operatorContact: 'javascript:alert(1)' }, 'operatorContact'],
    ] as const) {
      const res = await gql(api.url, UPDATE, { i }, { auth: world.adminToken });
      expect(res.errors?.[0]?.extensions, JSON.stringify(i)).toMatchObject({ code: 'BAD_USER_INPUT', param: field });
    }
    for (const auth of [acme.ownerToken, acme.apiKey.secret]) {
      expect((await gql(api.url, `{ ${SETTINGS} }`, {}, { auth })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await gql(api.url, UPDATE, { i: { signupPolicy: 'OPEN' } }, { auth })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    expect((await gql<{ platformSettings: { signupPolicy: string } }>(api.url, `{ ${SETTINGS} }`, {}, { auth: world.adminToken })).data?.platformSettings.signupPolicy).toBe('ALLOWED_DOMAINS');
  });

  it('every signed-in user sees whom to ask for credits; an admin can remove it', async () => {
    const acme = await world.tenant('Gamma');
    const read = async () => (await gql<{ billingSettings: { mode: string; operatorContact: string | null } }>(api.url, '{ billingSettings { mode operatorContact } }', {}, { auth: acme.memberToken })).data?.billingSettings;
    expect(await read()).toEqual({ mode: 'manual', operatorContact: 'ops@cic.example' });
    await gql(api.url, UPDATE, { i: { operatorContact: 'https://help.cic.example/credits' } }, { auth: world.adminToken });
    expect(await read()).toEqual({ mode: 'manual', operatorContact: 'https://help.cic.example/credits' });
    await gql(api.url, UPDATE, { i: { operatorContact: null } }, { auth: world.adminToken });
    expect(await read()).toEqual({ mode: 'manual', operatorContact: null });
  });

  it('a bad environment default stops the API at start with the variable named', () => {
    const env = { DATABASE_URL: 'postgresql://x@127.0.0.1/x', REDIS_URL: 'redis://127.0.0.1:1' };
    expect(() => loadApiConfig({ ...env, SIGNUP_POLICY: 'sometimes' })).toThrow(/SIGNUP_POLICY/);
    expect(() => platformSettingsDefaultsOf(loadApiConfig({ ...env, SIGNUP_POLICY: 'allowed_domains' }))).toThrow(/SIGNUP_ALLOWED_DOMAINS/);
    expect(() => platformSettingsDefaultsOf(loadApiConfig({ ...env, SIGNUP_ALLOWED_DOMAINS: 'a b' }))).toThrow(/SIGNUP_ALLOWED_DOMAINS/);
    expect(() => platformSettingsDefaultsOf(loadApiConfig({ ...env, OPERATOR_CONTACT: 'call me' }))).toThrow(/OPERATOR_CONTACT/);
    expect(() => loadApiConfig({ ...env, NEW_ORGANIZATION_CREDIT_USD: '5000' })).toThrow(/NEW_ORGANIZATION_CREDIT_USD/);
    expect(platformSettingsDefaultsOf(loadApiConfig({ ...env, SIGNUP_POLICY: 'Allowed_Domains', SIGNUP_ALLOWED_DOMAINS: 'a.example, b.example' }))).toEqual({
      signupPolicy: 'ALLOWED_DOMAINS', allowedEmailDomains: ['a.example', 'b.example'], newOrganizationCreditMicros: 0n, operatorContact: null,
    });
  });
});
