import { z } from 'zod';
import { AppError } from '@cic/core/errors';
import { canReadOrganization } from '@cic/core/auth/viewer';
import type { Billing } from '@cic/core/billing/build-billing';
import { adjustCredits } from '@cic/core/billing/adjust-credits';
import { createBillingPortalSession } from '@cic/core/billing/create-billing-portal-session';
import { createCheckoutSession } from '@cic/core/billing/create-checkout-session';
import { listInvoices, type InvoiceSummary } from '@cic/core/billing/list-invoices';
import { updateModelPrice } from '@cic/core/billing/update-model-price';
import { readPlatformSettings } from '@cic/core/platform/platform-settings';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { manageOrganizationScope } from './scopes.ts';
import { notFound } from './tenant.ts';

declare module '../context.ts' {
  interface GraphQLServices {
    /** Billing's runtime (services/billing/build-billing.ts): the Stripe client (null = manual mode) and checkout settings. */
    billing?: Pick<Billing, 'stripe' | 'checkout'>;
  }
}

const billingOf = (ctx: GraphQLContext) => {
  if (!ctx.billing) throw new AppError('UNAVAILABLE', 'Billing is not available on this server.');
  return ctx.billing;
};

const readOrganizationScope = (ctx: GraphQLContext, organizationId: string) => {
  if (!canReadOrganization(ctx.viewer, organizationId)) throw notFound('Organization');
  return { orgMember: organizationId };
};

const BillingSettings = builder.objectRef<{ mode: 'stripe' | 'manual'; checkoutMinCents: number; checkoutMaxCents: number; operatorContact: string | null }>('BillingSettings').implement({
  description: 'How credits are bought here. In manual mode (no Stripe keys) only platform admins grant credits.',
  fields: (t) => ({
    mode: t.exposeString('mode', { description: '`stripe` or `manual`.' }),
    checkoutMinCents: t.exposeInt('checkoutMinCents'),
    checkoutMaxCents: t.exposeInt('checkoutMaxCents'),
    operatorContact: t.exposeString('operatorContact', { nullable: true, description: "Whom to ask for credits (the operator's email or https URL), set by platform admins." }),
  }),
});

const CheckoutSession = builder.objectRef<{ id: string; url: string }>('CheckoutSession').implement({
  fields: (t) => ({ id: t.exposeString('id'), url: t.exposeString('url', { description: 'Send the buyer here (Stripe Checkout).' }) }),
});

const BillingPortalSession = builder.objectRef<{ url: string }>('BillingPortalSession').implement({
  fields: (t) => ({ url: t.exposeString('url', { description: "Stripe's customer portal for this organization." }) }),
});

const Invoice = builder.objectRef<InvoiceSummary>('Invoice').implement({
  description: 'A Stripe invoice or receipt of a credit purchase.',
  fields: (t) => ({
    id: t.exposeString('id'),
    number: t.exposeString('number', { nullable: true }),
    status: t.exposeString('status', { nullable: true }),
    amountPaidCents: t.exposeInt('amountPaidCents'),
    currency: t.exposeString('currency'),
    createdAt: t.field({ type: 'DateTime', resolve: (i) => new Date(i.createdAt) }),
    hostedInvoiceUrl: t.exposeString('hostedInvoiceUrl', { nullable: true }),
    pdfUrl: t.exposeString('pdfUrl', { nullable: true }),
  }),
});

const CreditAdjustment = builder.objectRef<{ inserted: boolean; balanceMicros: bigint }>('CreditAdjustment').implement({
  fields: (t) => ({
    inserted: t.exposeBoolean('inserted', { description: 'False when this idempotency key was already used (nothing changed).' }),
    balanceMicros: t.expose('balanceMicros', { type: 'BigInt' }),
  }),
});

const AdjustCreditsInput = builder.inputType('AdjustCreditsInput', {
  fields: (t) => ({
    organizationId: t.id(),
    amountMicros: t.field({ type: 'BigInt', description: 'Signed micro-dollars: positive grants, negative takes back.' }),
    reason: t.string({ validate: { schema: z.string().trim().min(3).max(500) } }),
    idempotencyKey: t.string({ required: false, description: 'A retried mutation with the same key posts once.', validate: { schema: z.string().min(1).max(200) } }),
  }),
});

const UpdateModelPriceInput = builder.inputType('UpdateModelPriceInput', {
  fields: (t) => ({
    modelId: t.id(),
    promptPriceMicros: t.field({ type: 'BigInt', required: false, description: 'Micro-dollars per 1M prompt tokens; omitted = unchanged.' }),
    completionPriceMicros: t.field({ type: 'BigInt', required: false, description: 'Micro-dollars per 1M completion tokens; omitted = unchanged.' }),
  }),
});

builder.queryFields((t) => ({
  billingSettings: t.field({
    type: BillingSettings,
    authScopes: { authenticated: true },
    resolve: async (_root, _args, ctx) => {
      const { stripe, checkout } = billingOf(ctx);
      const { operatorContact } = await readPlatformSettings(ctx.prisma, ctx.platformDefaults);
      return { mode: stripe ? ('stripe' as const) : ('manual' as const), checkoutMinCents: checkout.minCents, checkoutMaxCents: checkout.maxCents, operatorContact };
    },
  }),
  invoices: t.field({
    type: [Invoice],
    description: "The organization's Stripe invoices and receipts, newest first (cached for a minute).",
    args: { organizationId: t.arg.id() },
    authScopes: (_root, { organizationId }, ctx) => readOrganizationScope(ctx, String(organizationId)),
    resolve: (_root, { organizationId }, ctx) =>
      listInvoices({ prisma: ctx.prisma, stripe: billingOf(ctx).stripe, redis: ctx.redis, viewer: ctx.viewer, organizationId: String(organizationId) }),
  }),
}));

builder.mutationFields((t) => ({
  createCheckoutSession: t.field({
    type: CheckoutSession,
    description: 'Opens a Stripe Checkout to buy credits (owners/admins); credits land when Stripe confirms the payment.',
    args: { organizationId: t.arg.id(), amountCents: t.arg.int() },
    authScopes: (_root, { organizationId }, ctx) => manageOrganizationScope(ctx, String(organizationId)),
    resolve: (_root, { organizationId, amountCents }, ctx) => {
      const { stripe, checkout } = billingOf(ctx);
      const orgId = String(organizationId);
      // Keyed by request id: a client retrying with the same X-Request-Id gets the same session back.
      return createCheckoutSession({ prisma: ctx.prisma, stripe, settings: checkout, viewer: ctx.viewer, organizationId: orgId, amountCents, idempotencyKey: `cic-checkout-${orgId}-${ctx.requestId}` });
    },
  }),
  createBillingPortalSession: t.field({
    type: BillingPortalSession,
    args: { organizationId: t.arg.id() },
    authScopes: (_root, { organizationId }, ctx) => manageOrganizationScope(ctx, String(organizationId)),
    resolve: (_root, { organizationId }, ctx) => {
      const { stripe, checkout } = billingOf(ctx);
      return createBillingPortalSession({ prisma: ctx.prisma, stripe, viewer: ctx.viewer, organizationId: String(organizationId), returnUrl: `${checkout.publicWebUrl.replace(/\/$/, '')}/billing` });
    },
  }),
  adjustCredits: t.field({
    type: CreditAdjustment,
    description: 'Grants or takes back credits (platform admins; audited). How credits are added in manual mode.',
    args: { input: t.arg({ type: AdjustCreditsInput }) },
    authScopes: { platformAdmin: true },
    resolve: (_root, { input }, ctx) =>
      adjustCredits({
        prisma: ctx.prisma, bus: ctx.bus, log: ctx.log, viewer: ctx.viewer, requestId: ctx.requestId, organizationId: String(input.organizationId),
        amountMicros: input.amountMicros, reason: input.reason, idempotencyKey: input.idempotencyKey ?? undefined,
      }),
  }),
  updateModelPrice: t.prismaField({
    type: 'ServedModel',
    description: "Sets a model's prices (platform admins; audited).",
    args: { input: t.arg({ type: UpdateModelPriceInput }) },
    authScopes: { platformAdmin: true },
    resolve: async (query, _root, { input }, ctx) => {
      const model = await updateModelPrice({
        prisma: ctx.prisma, viewer: ctx.viewer, requestId: ctx.requestId, modelId: String(input.modelId),
        promptPriceMicros: input.promptPriceMicros ?? undefined, completionPriceMicros: input.completionPriceMicros ?? undefined,
      });
      return ctx.prisma.servedModel.findUniqueOrThrow({ ...query, where: { id: model.id } });
    },
  }),
}));
