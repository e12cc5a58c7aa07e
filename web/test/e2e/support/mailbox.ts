import { SMTPServer } from 'smtp-server';

export interface Mail { to: string[]; raw: string }

/** Decodes quoted-printable soft breaks and escapes, enough to read a link out of a message. */
const decodeQp = (s: string) => s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

/** A local SMTP server that keeps every message, standing in for the mail provider. */
export async function startMailbox() {
  const mails: Mail[] = [];
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString()));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        for (const w of waiters.splice(0)) w();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    /** Waits for the next mail to `to` and returns the sign-in link in it. */
    async magicLink(to: string, timeoutMs = 20_000): Promise<string> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const mail = mails.find((m) => m.to.includes(to));
        if (mail) {
          mails.splice(mails.indexOf(mail), 1);
          const link = /https?:\/\/[^\s"<>]+\/auth\/callback\/email\?[^\s"<>]+/.exec(decodeQp(mail.raw))?.[0];
          if (!link) throw new Error(`no sign-in link in the mail to ${to}:\n${mail.raw}`);
          return link.replace(/&amp;/g, '&');
        }
        if (Date.now() > until) throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 500);
        });
      }
    },
    /** How many mails to `to` arrived (and were not taken by magicLink). */
    received: (to: string) => mails.filter((m) => m.to.includes(to)).length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
