import { readPlatformSettings, SIGNUP_POLICIES, updatePlatformSettings, type PlatformSettingsValues } from '@cic/core/platform/platform-settings';
import { builder } from '../builder.ts';
import { auditOf } from './scopes.ts';

declare module '../context.ts' {
  interface GraphQLServices {
    /** The environment's platform settings (SIGNUP_POLICY, …), in force until a platform admin saves their own. */
    platformDefaults: PlatformSettingsValues;
  }
}

const SignupPolicy = builder.enumType('SignupPolicy', {
  description: 'Who may create an account by signing in for the first time. An invitation always lets its email in.',
  values: {
    OPEN: { description: 'Anyone.' },
    INVITE_ONLY: { description: 'Only invited emails.' },
    ALLOWED_DOMAINS: { description: 'Addresses at allowedEmailDomains, and invited emails.' },
  } satisfies Record<(typeof SIGNUP_POLICIES)[number], unknown>,
});

const PlatformSettings = builder.objectRef<PlatformSettingsValues>('PlatformSettings').implement({
  description: "The platform's sign-up policy and what new organizations get (platform admins).",
  fields: (t) => ({
    signupPolicy: t.field({ type: SignupPolicy, resolve: (s) => s.signupPolicy }),
    allowedEmailDomains: t.exposeStringList('allowedEmailDomains'),
    newOrganizationCreditMicros: t.expose('newOrganizationCreditMicros', { type: 'BigInt', description: 'Credit granted to each organization created at sign-up.' }),
    operatorContact: t.exposeString('operatorContact', { nullable: true, description: 'How users reach the operator (email or https URL); shown where credits cannot be bought.' }),
  }),
});

const UpdatePlatformSettingsInput = builder.inputType('UpdatePlatformSettingsInput', {
  description: 'Each field left out keeps its value; operatorContact: null removes it.',
  fields: (t) => ({
    signupPolicy: t.field({ type: SignupPolicy, required: false }),
    allowedEmailDomains: t.stringList({ required: false, description: 'Replaces the list; lower-cased, at most 100.' }),
    newOrganizationCreditMicros: t.field({ type: 'BigInt', required: false, description: '0 to 1,000 USD in micro-dollars.' }),
    operatorContact: t.string({ required: false }),
  }),
});

builder.queryFields((t) => ({
  platformSettings: t.field({
    type: PlatformSettings,
    description: 'The settings in force: the ones a platform admin saved, else the environment defaults.',
    authScopes: { platformAdmin: true },
    resolve: (_root, _args, ctx) => readPlatformSettings(ctx.prisma, ctx.platformDefaults),
  }),
}));

builder.mutationFields((t) => ({
  updatePlatformSettings: t.field({
    type: PlatformSettings,
    description: 'Changes the sign-up policy, the credit for new organizations or the operator contact (platform admins; audited).',
    args: { input: t.arg({ type: UpdatePlatformSettingsInput }) },
    authScopes: { platformAdmin: true },
    resolve: async (_root, { input }, ctx) => {
      const settings = await updatePlatformSettings({
        ...auditOf(ctx), prisma: ctx.prisma, defaults: ctx.platformDefaults,
        input: {
          signupPolicy: input.signupPolicy ?? undefined,
          allowedEmailDomains: input.allowedEmailDomains ?? undefined,
          newOrganizationCreditMicros: input.newOrganizationCreditMicros ?? undefined,
          operatorContact: input.operatorContact,
        },
      });
      ctx.log.info({ signupPolicy: settings.signupPolicy }, 'platform settings updated');
      return settings;
    },
  }),
}));
