import { error, fail } from '@sveltejs/kit';
import { actionMessage, gql, runAction, tryGql } from '$lib/server/api';
import { config } from '$lib/server/config';
import { invitationsUrl, sendInvitationMail } from '$lib/server/invitation-mailer';
import { viewerContext, type ViewerContext } from '$lib/server/viewer';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

interface Member { id: string; role: string; user: { id: string; email: string; name: string | null } }
/** An invitation not cancelled: PENDING, or DECLINED/EXPIRED (resend reopens those); ACCEPTED ones are members. */
interface InvitationRow { id: string; email: string; role: string; status: 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'EXPIRED'; createdAt: string; expiresAt: string }
interface PlatformSettings { signupPolicy: 'OPEN' | 'INVITE_ONLY' | 'ALLOWED_DOMAINS'; allowedEmailDomains: string[]; newOrganizationCreditMicros: string; operatorContact: string | null }
interface OrgRow { id: string; name: string; slug: string; frozenAt: string | null; billing: { balanceMicros: string } | null }
interface AuditRow {
  id: string; action: string; actorType: string; actorId: string; actor: { email: string; name: string | null } | null;
  targetType: string | null; targetId: string | null; requestId: string | null; createdAt: string;
}

/** Owners/admins of an organization manage its members; platform admins also see everything else. */
async function gate(event: RequestEvent, fromParent?: () => Promise<ViewerContext>) {
  const { viewer, organization, canManageOrg } = fromParent ? await fromParent() : await viewerContext(event);
  if (!canManageOrg) error(403, { message: 'Administration is for organization owners and admins.', hint: 'Ask an owner of your organization to change your role.' });
  return { viewer, organization };
}

export const load: PageServerLoad = async (event) => {
  const { viewer, organization } = await gate(event, event.parent);
  const filters = { action: event.url.searchParams.get('action') || null, person: event.url.searchParams.get('person')?.trim() || null };
  const people = organization
    ? await tryGql<{ organization: { members: Member[]; invitations: InvitationRow[] | null } | null }>(event, `
        query Members($id: ID!) { organization(id: $id) { members { id role user { id email name } } invitations { id email role status createdAt expiresAt } } }
      `, { id: organization.id })
    : null;
  const audit = await tryGql<{ auditLog: { edges: { node: AuditRow }[] } }>(event, `
    query Audit($organizationId: ID, $action: String, $actorEmail: String) {
      auditLog(first: 50, organizationId: $organizationId, action: $action, actorEmail: $actorEmail) {
        edges { node { id action actorType actorId actor { email name } targetType targetId requestId createdAt } }
      }
    }
  `, { organizationId: viewer.isPlatformAdmin && event.url.searchParams.get('all') ? null : organization?.id ?? null, action: filters.action, actorEmail: filters.person });
  let platform: { organizations: OrgRow[]; models: { id: string }[]; settings: PlatformSettings } | null = null;
  let platformProblem: string | null = null;
  if (viewer.isPlatformAdmin) {
    const res = await tryGql<{ organizations: { edges: { node: OrgRow }[] }; models: { id: string }[]; platformSettings: PlatformSettings }>(event, `
      query Platform { organizations(first: 100) { edges { node { id name slug frozenAt billing { balanceMicros } } } }
        models { id }
        platformSettings { signupPolicy allowedEmailDomains newOrganizationCreditMicros operatorContact } }
    `);
    platform = res.data ? { organizations: res.data.organizations.edges.map((e) => e.node), models: res.data.models, settings: res.data.platformSettings } : null;
    platformProblem = res.problem;
  }
  return {
    members: people?.data?.organization?.members ?? [],
    invitations: (people?.data?.organization?.invitations ?? []).filter((i) => i.status !== 'ACCEPTED'),
    audit: audit.data?.auditLog.edges.map((e) => e.node) ?? [],
    filters,
    platform,
    problem: people?.problem ?? audit.problem ?? platformProblem,
  };
};

interface Invited { id: string; email: string; role: string; expiresAt: string; organization: { name: string } }

/** Emails the invitee (logged without EMAIL_SERVER); the invitation stands even if the mail fails. */
async function mailInvitation(inv: Invited, invitedBy: string): Promise<string> {
  const c = config();
  try {
    await sendInvitationMail({ server: c.EMAIL_SERVER, from: c.EMAIL_FROM }, {
      to: inv.email, organizationName: inv.organization.name, role: inv.role, invitedBy, expiresAt: new Date(inv.expiresAt), invitationsUrl: invitationsUrl(c.ORIGIN),
    });
    return `Invitation sent to ${inv.email}; they join once they accept it.`;
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', msg: 'invitation email failed', invitationId: inv.id, error: err instanceof Error ? err.message : String(err) }));
    return `Invitation created for ${inv.email}, but the email could not be sent; they see it under Invitations when they sign in.`;
  }
}

const micros = (v: FormDataEntryValue | null) => {
  const n = Number(v);
  return Number.isFinite(n) ? String(Math.round(n * 1_000_000)) : null;
};

export const actions: Actions = {
  invite: async (event) => {
    const { viewer, organization } = await gate(event);
    if (!organization) return fail(400, { action: 'invite', ok: false, message: 'Pick an organization you belong to first; invitations are to an organization.' });
    const form = await event.request.formData();
    const email = String(form.get('email') ?? '').trim();
    if (!email.includes('@')) return fail(400, { action: 'invite', ok: false, message: 'Enter the email address to invite.' });
    let invitation: Invited;
    try {
      invitation = (await gql<{ inviteMember: Invited }>(event, 'mutation Invite($input: InviteMemberInput!) { inviteMember(input: $input) { id email role expiresAt organization { name } } }',
        { input: { organizationId: organization.id, email, role: String(form.get('role') ?? 'MEMBER') } })).inviteMember;
    } catch (err) {
      return fail(400, { action: 'invite', ok: false, message: actionMessage(err) });
    }
    return { action: 'invite', ok: true, message: await mailInvitation(invitation, viewer.name ?? viewer.email) };
  },
  resend: async (event) => {
    const { viewer } = await gate(event);
    const id = String((await event.request.formData()).get('invitationId') ?? '');
    let invitation: Invited;
    try {
      invitation = (await gql<{ resendInvitation: Invited }>(event, 'mutation ResendInvitation($id: ID!) { resendInvitation(id: $id) { id email role expiresAt organization { name } } }', { id })).resendInvitation;
    } catch (err) {
      return fail(400, { action: 'resend', ok: false, message: actionMessage(err) });
    }
    return { action: 'resend', ok: true, message: await mailInvitation(invitation, viewer.name ?? viewer.email) };
  },
  cancel: async (event) => {
    await gate(event);
    const form = await event.request.formData();
    return runAction(event, 'cancel', 'mutation CancelInvitation($id: ID!) { cancelInvitation(id: $id) }',
      { id: String(form.get('invitationId') ?? '') }, `Invitation to ${String(form.get('email') ?? 'them')} cancelled; its link no longer works.`);
  },
  role: async (event) => {
    await gate(event);
    const form = await event.request.formData();
    return runAction(event, 'role', 'mutation Role($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) { id role } }',
      { input: { membershipId: String(form.get('membershipId')), role: String(form.get('role')) } }, 'Role changed.');
  },
  remove: async (event) => {
    await gate(event);
    const form = await event.request.formData();
    return runAction(event, 'remove', 'mutation RemoveMember($membershipId: ID!) { removeMember(membershipId: $membershipId) }',
      { membershipId: String(form.get('membershipId') ?? '') }, 'Member removed.');
  },
  platform: async (event) => {
    await gate(event);
    const form = await event.request.formData();
    const credit = micros(form.get('newOrganizationCredit'));
    if (credit === null || credit.startsWith('-')) return fail(400, { action: 'platform', ok: false, message: 'Give the credit for new organizations in USD, 0 or more.' });
    const contact = String(form.get('operatorContact') ?? '').trim();
    return runAction(event, 'platform', 'mutation PlatformSettings($input: UpdatePlatformSettingsInput!) { updatePlatformSettings(input: $input) { signupPolicy } }', {
      input: {
        signupPolicy: String(form.get('signupPolicy') ?? ''),
        allowedEmailDomains: String(form.get('allowedEmailDomains') ?? '').split(/[\s,]+/).filter(Boolean),
        newOrganizationCreditMicros: credit,
        operatorContact: contact || null,
      },
    }, 'Platform settings saved.');
  },
  credit: async (event) => {
    await gate(event);
    const form = await event.request.formData();
    const amount = micros(form.get('amount'));
    const description = String(form.get('description') ?? '').trim();
    if (!amount || amount === '0' || !description) return fail(400, { action: 'credit', ok: false, message: 'Give a non-zero USD amount (negative to debit) and a reason.' });
    // The form carries a one-time key, so a double submit posts once.
    return runAction(event, 'credit', 'mutation Credit($input: AdjustCreditsInput!) { adjustCredits(input: $input) { balanceMicros } }',
      { input: { organizationId: String(form.get('organizationId')), amountMicros: amount, reason: description, idempotencyKey: String(form.get('idempotencyKey') ?? '') || null } },
      'Credit adjustment posted to the ledger.');
  },
};
