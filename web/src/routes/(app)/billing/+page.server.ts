import { fail, redirect } from '@sveltejs/kit';
import { actionMessage, gql, tryGql } from '$lib/server/api';
import { viewerContext } from '$lib/server/viewer';
import type { Actions, PageServerLoad } from './$types';

interface BillingData {
  organization: {
    frozenReason: string | null;
    billing: {
      balanceMicros: string;
      lowBalanceMicros: string;
      low: boolean;
      frozen: boolean;
      ledger: { edges: { node: { id: string; type: string; amountMicros: string; description: string; createdAt: string } }[] };
    } | null;
  } | null;
  billingSettings: { mode: string; checkoutMinCents: number; checkoutMaxCents: number; operatorContact: string | null };
}

export interface InvoiceRow { id: string; number: string | null; amountPaidCents: number; currency: string; status: string | null; createdAt: string; hostedInvoiceUrl: string | null; pdfUrl: string | null }

export const load: PageServerLoad = async (event) => {
  const { organization } = await event.parent();
  if (!organization) return { billing: null, settings: null, invoices: [] as InvoiceRow[], frozenReason: null, problem: 'You are not a member of any organization yet.' };
  const res = await tryGql<BillingData>(event, `
    query Billing($id: ID!) {
      organization(id: $id) {
        frozenReason
        billing {
          balanceMicros lowBalanceMicros low frozen
          ledger(first: 50) { edges { node { id type amountMicros description createdAt } } }
        }
      }
      billingSettings { mode checkoutMinCents checkoutMaxCents operatorContact }
    }
  `, { id: organization.id });
  const stripe = res.data?.billingSettings.mode === 'stripe';
  // Invoices come from Stripe (cached by the API); a Stripe hiccup must not hide the balance.
  const invoices = stripe
    ? await tryGql<{ invoices: InvoiceRow[] }>(event, `
        query Invoices($id: ID!) { invoices(organizationId: $id) { id number amountPaidCents currency status createdAt hostedInvoiceUrl pdfUrl } }
      `, { id: organization.id })
    : null;
  return {
    billing: res.data?.organization?.billing ?? null,
    settings: res.data?.billingSettings ?? null,
    invoices: invoices?.data?.invoices ?? [],
    invoicesProblem: invoices?.problem ?? null,
    frozenReason: res.data?.organization?.frozenReason ?? null,
    problem: res.problem,
  };
};

export const actions: Actions = {
  buy: async (event) => {
    const { organization } = await viewerContext(event);
    const dollars = Number((await event.request.formData()).get('amount'));
    if (!organization) return fail(400, { message: 'You are not a member of any organization.' });
    if (!Number.isFinite(dollars) || dollars <= 0) return fail(400, { message: 'Enter an amount in US dollars, e.g. 20.' });
    let url: string;
    try {
      const data = await gql<{ createCheckoutSession: { url: string } }>(event, `
        mutation Checkout($organizationId: ID!, $amountCents: Int!) { createCheckoutSession(organizationId: $organizationId, amountCents: $amountCents) { url } }
      `, { organizationId: organization.id, amountCents: Math.round(dollars * 100) });
      url = data.createCheckoutSession.url;
    } catch (err) {
      return fail(400, { message: actionMessage(err) });
    }
    redirect(303, url);
  },
  portal: async (event) => {
    const { organization } = await viewerContext(event);
    if (!organization) return fail(400, { message: 'You are not a member of any organization.' });
    let url: string;
    try {
      const data = await gql<{ createBillingPortalSession: { url: string } }>(event, `
        mutation Portal($organizationId: ID!) { createBillingPortalSession(organizationId: $organizationId) { url } }
      `, { organizationId: organization.id });
      url = data.createBillingPortalSession.url;
    } catch (err) {
      return fail(400, { message: actionMessage(err) });
    }
    redirect(303, url);
  },
};
