import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the stand-in received, as Stripe would see it. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Form fields (bracket notation kept flat: `line_items[0][price_data][unit_amount]`). */
  form: Record<string, string>;
  query: Record<string, string>;
  idempotencyKey: string | null;
  authorization: string | null;
}

export interface StandInInvoice {
  id: string;
  customer: string;
  number: string;
  status: string;
  amount_paid: number;
  currency: string;
  created: number;
}

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

/**
 * A local stand-in for the parts of Stripe's HTTP API that billing calls (customers, checkout sessions,
 * billing portal sessions, invoices), so the official SDK can be driven in tests. It records every request
 * and, like Stripe, replays the first response for a repeated Idempotency-Key.
 */
export async function startStripeStandIn(options: { secretKey: string }) {
  const requests: RecordedRequest[] = [];
  const invoices: StandInInvoice[] = [];
  const replies = new Map<string, { status: number; body: unknown }>();

  function route(r: RecordedRequest): { status: number; body: unknown } {
    if (r.authorization !== `Bearer ${options.secretKey}`) {
      return { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } } };
    }
    if (r.method === 'POST' && r.path === '/v1/customers') {
      return { status: 200, body: { id: id('cus'), object: 'customer', name: r.form.name ?? null, metadata: {} } };
    }
    if (r.method === 'POST' && r.path === '/v1/checkout/sessions') {
      const sid = id('cs_test');
      return {
        status: 200,
        body: {
          id: sid, object: 'checkout.session', mode: r.form.mode, customer: r.form.customer, status: 'open', payment_status: 'unpaid',
          amount_total: Number(r.form['line_items[0][price_data][unit_amount]']), currency: 'usd',
          url: `https://checkout.stripe.test/c/pay/${sid}`, metadata: { organizationId: r.form['metadata[organizationId]'] },
        },
      };
    }
    if (r.method === 'POST' && r.path === '/v1/billing_portal/sessions') {
      return { status: 200, body: { id: id('bps'), object: 'billing_portal.session', customer: r.form.customer, url: `https://billing.stripe.test/p/session/${id('ps')}` } };
    }
    if (r.method === 'GET' && r.path === '/v1/invoices') {
      const data = invoices.filter((i) => i.customer === r.query.customer).map((i) => ({
        ...i, object: 'invoice', hosted_invoice_url: `https://invoice.stripe.test/${i.id}`, invoice_pdf: `https://invoice.stripe.test/${i.id}.pdf`,
      }));
      return { status: 200, body: { object: 'list', url: '/v1/invoices', has_more: false, data } };
    }
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${r.method}: ${r.path})` } } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : null);
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
      query: Object.fromEntries(url.searchParams),
      idempotencyKey: header('idempotency-key'),
      authorization: header('authorization'),
    };
    requests.push(recorded);
    const replayKey = recorded.idempotencyKey && `${recorded.path} ${recorded.idempotencyKey}`;
    let reply = replayKey ? replies.get(replayKey) : undefined;
    if (!reply) {
      reply = route(recorded);
      if (replayKey && reply.status < 500) replies.set(replayKey, reply);
    }
    const payload = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', 'request-id': id('req') });
    res.end(payload);
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Adds an invoice the invoices list returns for its customer. */
    addInvoice(invoice: Omit<StandInInvoice, 'id' | 'number'> & { id?: string; number?: string }): StandInInvoice {
      const full = { id: id('in'), number: `CIC-${invoices.length + 1}`, ...invoice };
      invoices.push(full);
      return full;
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export type StripeStandIn = Awaited<ReturnType<typeof startStripeStandIn>>;
