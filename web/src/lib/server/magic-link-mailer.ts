import { smtpTransport } from './smtp-transport';

export interface MagicLinkMailerOptions {
  /** SMTP URL; without it the link is printed to the server log (development). */
  server: string | undefined;
  from: string;
  /** The platform's sign-up policy for the address (the API's signUpDecision). */
  signUp: (email: string) => Promise<{ allowed: boolean; reason: string | null }>;
}

/**
 * Sends the Auth.js sign-in link by SMTP, or logs it when no SMTP server is configured. An address the
 * sign-up policy refuses (no account, no invitation) is sent why instead of a link: the page the asker
 * sees is the same either way, so the form does not tell strangers which addresses have accounts.
 */
export function magicLinkSender({ server, from, signUp }: MagicLinkMailerOptions) {
  return async ({ identifier, url }: { identifier: string; url: string }): Promise<void> => {
    const host = new URL(url).host;
    const decision = await signUp(identifier);
    if (!decision.allowed) {
      if (!server) {
        console.log(JSON.stringify({ level: 'info', msg: 'sign-up refused: no sign-in link sent (EMAIL_SERVER unset, so this is logged instead of mailed)', email: identifier, reason: decision.reason }));
        return;
      }
      await smtpTransport(server).sendMail({
        to: identifier,
        from,
        subject: `Sign in to CIC (${host})`,
        text: `Someone asked to sign in to CIC at ${host} with this address, which has no account there. ${decision.reason ?? ''}\n\nIf you did not ask, ignore this email.\n`,
      });
      return;
    }
    if (!server) {
      console.log(JSON.stringify({ level: 'info', msg: 'magic sign-in link (EMAIL_SERVER unset, so it is logged instead of sent)', email: identifier, url }));
      return;
    }
    await smtpTransport(server).sendMail({
      to: identifier,
      from,
      subject: `Sign in to CIC (${host})`,
      text: `Sign in to CIC:\n${url}\n\nThe link works once and expires in 24 hours. If you did not ask for it, ignore this email.\n`,
      html: `<p>Sign in to CIC:</p><p><a href="${url}">Sign in</a></p><p>The link works once and expires in 24 hours. If you did not ask for it, ignore this email.</p>`,
    });
  };
}
