import type { GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema/index.ts';
import { createGraphQLWorld, gql } from './graphql-fixture.ts';

const INTERNAL_AUTH_SECRET = 'test-internal-auth-secret-0123456789abcdef';
const VALID_DAYS = 3;

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let a: Awaited<ReturnType<typeof world.tenant>>;
let b: Awaited<ReturnType<typeof world.tenant>>;

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  b = await world.tenant('Bolt');
  url = (await world.startApi({ INTERNAL_AUTH_SECRET, INVITATION_VALID_DAYS: String(VALID_DAYS) })).url;
});
afterAll(async () => {
  await world.close();
});

interface InvitationJson { id: string; email: string; role: string; status: string; acceptedAt: string | null; createdAt: string; expiresAt: string }
interface ReceivedJson { id: string; organizationId: string; organizationName: string; role: string; status: string; invitedBy: string | null }

const INVITE = 'mutation($input: InviteMemberInput!) { inviteMember(input: $input) { id email role status acceptedAt createdAt expiresAt } }';
const RECEIVED = 'id organizationId organizationName role status invitedBy';
const MINE = `{ viewer { invitations { ${RECEIVED} } } }`;
const ACCEPT = `mutation($id: ID!) { acceptInvitation(id: $id) { ${RECEIVED} } }`;
const DECLINE = `mutation($id: ID!) { declineInvitation(id: $id) { ${RECEIVED} } }`;
const CANCEL = 'mutation($id: ID!) { cancelInvitation(id: $id) }';
const RESEND = 'mutation($id: ID!) { resendInvitation(id: $id) { id status expiresAt } }';
const MEMBERS = 'query($id: ID) { organization(id: $id) { members { role user { email } } invitations { email status } } }';

async function invite(email: string, role = 'MEMBER', auth = a.ownerToken) {
  const r = await gql<{ inviteMember: InvitationJson }>(url, INVITE, { input: { organizationId: a.org.id, email, role } }, { auth });
  expect(r.errors).toBeUndefined();
  return r.data!.inviteMember;
}
const code = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;
const memberEmails = async (orgId = a.org.id) =>
  (await gql<{ organization: { members: { user: { email: string } }[] } }>(url, MEMBERS, { id: orgId }, { auth: a.ownerToken })).data!.organization.members.map((m) => m.user.email);
const isMember = async (userId: string, organizationId = a.org.id) => (await world.prisma.membership.count({ where: { userId, organizationId } })) === 1;

/** Signs a new user up the way the dashboard's Auth.js adapter does on first sign-in. */
async function signUp(email: string): Promise<string> {
  const res = await fetch(`${url}/internal/auth/createUser`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-cic-internal-auth': INTERNAL_AUTH_SECRET }, body: JSON.stringify({ email }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: { id: string } }).result.id;
}

describe('inviting', () => {
  it("answers PENDING for another tenant's account exactly as for an unknown email, and adds no one", async () => {
    const existing = await invite(b.owner.email, 'ADMIN');
    const unknown = await invite('nobody-yet@example.com', 'ADMIN');
    const shape = (i: InvitationJson) => ({ ...i, id: 'x', email: 'x', createdAt: 'x', expiresAt: 'x' });
    expect(shape(existing)).toEqual(shape(unknown));
    expect(existing).toMatchObject({ email: b.owner.email.toLowerCase(), role: 'ADMIN', status: 'PENDING', acceptedAt: null });
    expect(await isMember(b.owner.id)).toBe(false);
    expect(await memberEmails(a.org.id)).not.toContain(b.owner.email);
    const audits = await world.prisma.auditLog.findMany({ where: { action: 'member.invite', targetId: { in: [existing.id, unknown.id] } } });
    expect(audits.map((e) => Object.keys(e.metadata as object).sort())).toEqual([['email', 'role'], ['email', 'role']]);
  });

  it('has no field that could carry the invitee account', () => {
    const type = schema.getType('Invitation') as GraphQLObjectType;
    expect(Object.keys(type.getFields()).sort()).toEqual(['acceptedAt', 'createdAt', 'email', 'expiresAt', 'id', 'organization', 'role', 'status']);
  });

  it(`expires after INVITATION_VALID_DAYS (${VALID_DAYS})`, async () => {
    const inv = await invite('later@example.com');
    const days = (Date.parse(inv.expiresAt) - Date.parse(inv.createdAt)) / 86_400_000;
    expect(days).toBeCloseTo(VALID_DAYS, 2);
  });

  it('refuses to invite someone who is already a member', async () => {
    expect(code(await gql(url, INVITE, { input: { organizationId: a.org.id, email: a.member.email } }, { auth: a.ownerToken }))).toBe('CONFLICT');
  });
});

describe('answering', () => {
  it('the invitee sees the invitation, accepts it and becomes a member with the invited role', async () => {
    const invitee = await world.user('invitee');
    const inv = await invite(invitee.email, 'ADMIN');
    const token = await world.token(invitee.id);
    const mine = await gql<{ viewer: { invitations: ReceivedJson[] } }>(url, MINE, {}, { auth: token });
    expect(mine.data!.viewer.invitations).toEqual([
      { id: inv.id, organizationId: a.org.id, organizationName: a.org.name, role: 'ADMIN', status: 'PENDING', invitedBy: a.owner.email },
    ]);
    const r = await gql<{ acceptInvitation: ReceivedJson }>(url, ACCEPT, { id: inv.id }, { auth: token, headers: { 'x-request-id': 'req-accept-1' } });
    expect(r.errors).toBeUndefined();
    expect(r.data!.acceptInvitation).toMatchObject({ id: inv.id, status: 'ACCEPTED', organizationId: a.org.id });
    expect(await world.prisma.membership.findFirst({ where: { userId: invitee.id, organizationId: a.org.id } })).toMatchObject({ role: 'ADMIN' });
    expect(await memberEmails()).toContain(invitee.email);
    expect(await world.prisma.auditLog.findFirst({ where: { action: 'invitation.accept', targetId: inv.id } }))
      .toMatchObject({ actorType: 'USER', actorId: invitee.id, organizationId: a.org.id, requestId: 'req-accept-1' });
    expect((await gql<{ viewer: { invitations: ReceivedJson[] } }>(url, MINE, {}, { auth: token })).data!.viewer.invitations).toEqual([]);
    expect(code(await gql(url, ACCEPT, { id: inv.id }, { auth: token }))).toBe('CONFLICT');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/cic_invitations_total\{event="accepted"\} [1-9]/);
  });

  it('nobody but the invitee can accept or decline: not another user, another tenant, an API key or anonymous', async () => {
    const invitee = await world.user('target');
    const inv = await invite(invitee.email);
    for (const auth of [a.memberToken, a.ownerToken, b.ownerToken, world.adminToken]) {
      expect(code(await gql(url, ACCEPT, { id: inv.id }, { auth }))).toBe('NOT_FOUND');
      expect(code(await gql(url, DECLINE, { id: inv.id }, { auth }))).toBe('NOT_FOUND');
    }
    for (const auth of [a.apiKey.secret, b.apiKey.secret]) expect(code(await gql(url, ACCEPT, { id: inv.id }, { auth }))).toBe('FORBIDDEN');
    expect(code(await gql(url, ACCEPT, { id: inv.id }))).toBe('UNAUTHENTICATED');
    // The inviter's own organization key sees no invitations of its own either.
    expect((await gql<{ viewer: { invitations: ReceivedJson[] } }>(url, MINE, {}, { auth: a.apiKey.secret })).data!.viewer.invitations).toEqual([]);
    expect((await gql<{ viewer: { invitations: ReceivedJson[] } }>(url, MINE, {}, { auth: b.ownerToken })).data!.viewer.invitations.map((i) => i.id)).not.toContain(inv.id);
    expect(await world.prisma.membership.count({ where: { organizationId: a.org.id, user: { email: { in: [b.owner.email, world.admin.email] } } } })).toBe(0);
    expect(await world.prisma.invitation.findUniqueOrThrow({ where: { id: inv.id } })).toMatchObject({ acceptedAt: null, declinedAt: null });
  });

  it('an expired invitation cannot be accepted; resending reopens it', async () => {
    const invitee = await world.user('late');
    const inv = await invite(invitee.email);
    await world.prisma.invitation.update({ where: { id: inv.id }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const token = await world.token(invitee.id);
    expect((await gql<{ viewer: { invitations: ReceivedJson[] } }>(url, MINE, {}, { auth: token })).data!.viewer.invitations).toEqual([]);
    expect(code(await gql(url, ACCEPT, { id: inv.id }, { auth: token }))).toBe('CONFLICT');
    expect(await isMember(invitee.id)).toBe(false);
    const listed = await gql<{ organization: { invitations: { email: string; status: string }[] } }>(url, MEMBERS, { id: a.org.id }, { auth: a.ownerToken });
    expect(listed.data!.organization.invitations).toContainEqual({ email: invitee.email, status: 'EXPIRED' });
    const resent = await gql<{ resendInvitation: { status: string } }>(url, RESEND, { id: inv.id }, { auth: a.ownerToken });
    expect(resent.data?.resendInvitation.status).toBe('PENDING');
    expect((await gql(url, ACCEPT, { id: inv.id }, { auth: token })).errors).toBeUndefined();
    expect(await isMember(invitee.id)).toBe(true);
    expect(await world.prisma.auditLog.count({ where: { action: 'invitation.resend', targetId: inv.id } })).toBe(1);
  });

  it('the invitee declines: DECLINED for the organization, no membership, no accepting afterwards', async () => {
    const invitee = await world.user('nope');
    const inv = await invite(invitee.email);
    const token = await world.token(invitee.id);
    expect((await gql<{ declineInvitation: ReceivedJson }>(url, DECLINE, { id: inv.id }, { auth: token })).data?.declineInvitation.status).toBe('DECLINED');
    expect(code(await gql(url, ACCEPT, { id: inv.id }, { auth: token }))).toBe('CONFLICT');
    expect(await isMember(invitee.id)).toBe(false);
    expect(await world.prisma.auditLog.count({ where: { action: 'invitation.decline', targetId: inv.id, actorId: invitee.id } })).toBe(1);
  });
});

describe('cancelling', () => {
  it('owners and admins cancel an invitation that was not accepted; the invitee can no longer accept it', async () => {
    const invitee = await world.user('cancelled');
    const inv = await invite(invitee.email);
    expect(code(await gql(url, CANCEL, { id: inv.id }, { auth: a.memberToken }))).toBe('FORBIDDEN');
    expect(code(await gql(url, CANCEL, { id: inv.id }, { auth: b.ownerToken }))).toBe('NOT_FOUND');
    expect(code(await gql(url, RESEND, { id: inv.id }, { auth: b.ownerToken }))).toBe('NOT_FOUND');
    expect(code(await gql(url, CANCEL, { id: inv.id }, { auth: a.apiKey.secret }))).toBe('FORBIDDEN');
    expect((await gql<{ cancelInvitation: string }>(url, CANCEL, { id: inv.id }, { auth: a.ownerToken })).data?.cancelInvitation).toBe(inv.id);
    expect(code(await gql(url, ACCEPT, { id: inv.id }, { auth: await world.token(invitee.id) }))).toBe('NOT_FOUND');
    expect(await world.prisma.auditLog.findFirst({ where: { action: 'invitation.cancel', targetId: inv.id } })).toMatchObject({ actorId: a.owner.id, organizationId: a.org.id });
  });

  it('an accepted invitation is not cancelled (remove the member instead); admins leave OWNER invitations to owners', async () => {
    const joiner = await world.user('stays');
    const inv = await invite(joiner.email);
    await gql(url, ACCEPT, { id: inv.id }, { auth: await world.token(joiner.id) });
    expect(code(await gql(url, CANCEL, { id: inv.id }, { auth: a.ownerToken }))).toBe('CONFLICT');
    const admin = await world.user('acme-admin');
    await world.prisma.membership.create({ data: { userId: admin.id, organizationId: a.org.id, role: 'ADMIN' } });
    const ownerInvite = await invite('future-owner@example.com', 'OWNER');
    expect(code(await gql(url, CANCEL, { id: ownerInvite.id }, { auth: await world.token(admin.id) }))).toBe('FORBIDDEN');
    expect(code(await gql(url, RESEND, { id: ownerInvite.id }, { auth: await world.token(admin.id) }))).toBe('FORBIDDEN');
  });
});

describe('signing up with a pending invitation', () => {
  it('keeps the new user\'s own organization and leaves the invitation for them to accept', async () => {
    const email = 'newcomer@example.com';
    const inv = await invite(email, 'ADMIN');
    const userId = await signUp(email);
    const memberships = await world.prisma.membership.findMany({ where: { userId } });
    expect(memberships).toEqual([expect.objectContaining({ role: 'OWNER' })]);
    expect(memberships[0]!.organizationId).not.toBe(a.org.id);
    expect(await memberEmails()).not.toContain(email);
    const token = await world.token(userId);
    expect((await gql<{ viewer: { invitations: ReceivedJson[] } }>(url, MINE, {}, { auth: token })).data!.viewer.invitations.map((i) => i.id)).toEqual([inv.id]);
    expect((await gql(url, ACCEPT, { id: inv.id }, { auth: token })).errors).toBeUndefined();
    expect((await world.prisma.membership.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } })).map((m) => m.role)).toEqual(['OWNER', 'ADMIN']);
  });
});
