import { smtpTransport } from './smtp-transport';

export interface MagicLinkMailerOptions {
  /** SMTP URL; without it the link is printed to the server log (development). */
  server: string | undefined;
  from: string;
}

/** Sends the Auth.js sign-in link by SMTP, or logs it when no SMTP server is configured. */
export function magicLinkSender({ server, from }: MagicLinkMailerOptions) {
  return async ({ identifier, url }: { identifier: string; url: string }): Promise<void> => {
    if (!server) {
      console.log(JSON.stringify({ level: 'info', msg: 'magic sign-in link (EMAIL_SERVER unset, so it is logged instead of sent)', email: identifier, url }));
      return;
    }
    const host = new URL(url).host;
    await smtpTransport(server).sendMail({
      to: identifier,
      from,
      subject: `Sign in to CIC (${host})`,
      text: `Sign in to CIC:\n${url}\n\nThe link works once and expires in 24 hours. If you did not ask for it, ignore this email.\n`,
      html: `<p>Sign in to CIC:</p><p><a href="${url}">Sign in</a></p><p>The link works once and expires in 24 hours. If you did not ask for it, ignore this email.</p>`,
    });
  };
}
