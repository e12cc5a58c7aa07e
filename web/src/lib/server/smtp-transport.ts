import { createTransport, type Transporter } from 'nodemailer';

const transports = new Map<string, Transporter>();

/** One SMTP transport per server URL (EMAIL_SERVER), shared by every mail the dashboard sends. */
export function smtpTransport(server: string): Transporter {
  let transport = transports.get(server);
  if (!transport) {
    transport = createTransport(server);
    transports.set(server, transport);
  }
  return transport;
}
