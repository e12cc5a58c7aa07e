import { smtpTransport } from './smtp-transport';

export interface InvitationMailerOptions {
  /** SMTP URL (EMAIL_SERVER); without it the invitation is logged instead (development). */
  server: string | undefined;
  from: string;
}

export interface InvitationMail {
  to: string;
  organizationName: string;
  role: string;
  /** The inviter's name or email. */
  invitedBy: string;
  expiresAt: Date;
  /** The dashboard's /invitations page, from configuration (never from request headers). */
  invitationsUrl: string;
}

/**
 * The dashboard's /invitations page on ORIGIN (the configured public URL), never on a host taken from
 * the request, so an inviter cannot make the mail point somewhere else.
 */
export const invitationsUrl = (origin: string): string => new URL('/invitations', origin).href;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** Organization and inviter names are typed by other users: one line each, bounded. */
const oneLine = (s: string) => s.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim().slice(0, 120);

/**
 * The invitation email. It only points at the dashboard: the invitee signs in with the invited email
 * and accepts there, so the mail carries no token worth stealing.
 */
export function invitationMessage(mail: InvitationMail) {
  const org = oneLine(mail.organizationName);
  const by = oneLine(mail.invitedBy);
  const until = mail.expiresAt.toISOString().slice(0, 10);
  const text = `${by} invited you to join the organization "${org}" on CIC as ${mail.role}.\n\n`
    + `Sign in with this email address and accept or decline the invitation:\n${mail.invitationsUrl}\n\n`
    + `The invitation expires on ${until}. Nothing happens unless you accept it; if you did not expect it, ignore this email.\n`;
  const html = `<p>${escapeHtml(by)} invited you to join the organization <strong>${escapeHtml(org)}</strong> on CIC as ${escapeHtml(mail.role)}.</p>`
    + `<p>Sign in with this email address and accept or decline the invitation: <a href="${escapeHtml(mail.invitationsUrl)}">your invitations</a></p>`
    + `<p>The invitation expires on ${until}. Nothing happens unless you accept it; if you did not expect it, ignore this email.</p>`;
  return { to: mail.to, subject: `Invitation to join ${org} on CIC`, text, html };
}

/** Sends the invitation by SMTP, or logs it when no SMTP server is configured. */
export async function sendInvitationMail({ server, from }: InvitationMailerOptions, mail: InvitationMail): Promise<void> {
  if (!server) {
    console.log(JSON.stringify({ level: 'info', msg: 'invitation email (EMAIL_SERVER unset, so it is logged instead of sent)', email: mail.to, url: mail.invitationsUrl }));
    return;
  }
  await smtpTransport(server).sendMail({ from, ...invitationMessage(mail) });
}
