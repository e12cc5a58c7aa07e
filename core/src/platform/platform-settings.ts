import type { PrismaClient, SignupPolicy } from '@cic/db';
import { z } from 'zod';
import { writeAuditLog, type Actor } from '../audit/write-audit-log.ts';
import { AppError } from '../errors.ts';
import { pendingInvitationsOf } from '../organizations/invitation-status.ts';

export const SIGNUP_POLICIES = ['OPEN', 'INVITE_ONLY', 'ALLOWED_DOMAINS'] as const satisfies readonly SignupPolicy[];

/** What the platform's settings are: the saved row, or the environment's defaults before an admin saves them. */
export interface PlatformSettingsValues {
  signupPolicy: SignupPolicy;
  allowedEmailDomains: string[];
  newOrganizationCreditMicros: bigint;
  operatorContact: string | null;
}

/** The most credit an organization may be given at sign-up: 1,000 USD. */
export const MAX_NEW_ORGANIZATION_CREDIT_MICROS = 1_000_000_000n;

const domain = z.string().trim().toLowerCase().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'expected a domain such as example.com');
const contact = z.string().trim().max(200).refine((v) => z.email().safeParse(v).success || /^https:\/\/\S+$/.test(v), 'expected an email address or an https:// URL');

/** The fields an admin may change; each left out keeps its value. */
export const platformSettingsInput = z.object({
  signupPolicy: z.enum(SIGNUP_POLICIES).optional(),
  allowedEmailDomains: z.array(domain).max(100).optional(),
  newOrganizationCreditMicros: z.bigint().min(0n).max(MAX_NEW_ORGANIZATION_CREDIT_MICROS, 'at most 1,000 USD (1000000000 micros)').optional(),
  operatorContact: contact.nullable().optional(),
});
export type PlatformSettingsInput = z.input<typeof platformSettingsInput>;

/** The effective settings: the saved row, else `defaults` (from the environment). */
export async function readPlatformSettings(prisma: Pick<PrismaClient, 'platformSettings'>, defaults: PlatformSettingsValues): Promise<PlatformSettingsValues> {
  const row = await prisma.platformSettings.findUnique({ where: { id: 'platform' } });
  if (!row) return defaults;
  return { signupPolicy: row.signupPolicy, allowedEmailDomains: row.allowedEmailDomains, newOrganizationCreditMicros: row.newOrganizationCreditMicros, operatorContact: row.operatorContact };
}

/**
 * Changes the platform's settings (platform admins: the caller checks) and records the change in the
 * audit log with what it was and what it is. ALLOWED_DOMAINS needs at least one domain.
 */
export async function updatePlatformSettings({ prisma, actor, requestId, defaults, input }: {
  prisma: PrismaClient;
  actor: Actor;
  requestId?: string;
  defaults: PlatformSettingsValues;
  input: PlatformSettingsInput;
}): Promise<PlatformSettingsValues> {
  const parsed = platformSettingsInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('BAD_REQUEST', `Invalid ${issue.path.join('.')}: ${issue.message}.`, { param: String(issue.path[0]) });
  }
  return prisma.$transaction(async (tx) => {
    const from = await readPlatformSettings(tx, defaults);
    const change = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
    const to: PlatformSettingsValues = { ...from, ...change, allowedEmailDomains: [...new Set(parsed.data.allowedEmailDomains ?? from.allowedEmailDomains)] };
    if (to.signupPolicy === 'ALLOWED_DOMAINS' && to.allowedEmailDomains.length === 0) {
      throw new AppError('BAD_REQUEST', 'Sign-up limited to allowed domains needs at least one domain.', { param: 'allowedEmailDomains' });
    }
    await tx.platformSettings.upsert({ where: { id: 'platform' }, create: { id: 'platform', ...to }, update: to });
    const json = (v: PlatformSettingsValues) => ({ ...v, newOrganizationCreditMicros: v.newOrganizationCreditMicros.toString() });
    await writeAuditLog(tx, { actor, requestId, action: 'platform_settings.update', targetType: 'PlatformSettings', targetId: 'platform', metadata: { from: json(from), to: json(to) } });
    return to;
  });
}

/**
 * Why `email` may not create an account under `settings`, or null when it may. A pending invitation to
 * the email always lets it in; otherwise the policy decides. (Existing users sign in whatever the policy.)
 */
export async function signUpRefusal(prisma: Pick<PrismaClient, 'invitation'>, settings: PlatformSettingsValues, email: string): Promise<string | null> {
  if (settings.signupPolicy === 'OPEN') return null;
  if (await prisma.invitation.findFirst({ where: pendingInvitationsOf(email), select: { id: true } })) return null;
  const at = email.trim().toLowerCase().split('@').pop() ?? '';
  if (settings.signupPolicy === 'ALLOWED_DOMAINS' && settings.allowedEmailDomains.includes(at)) return null;
  return settings.signupPolicy === 'INVITE_ONLY'
    ? 'Sign-up on this platform is by invitation only: ask an administrator of an organization here to invite you.'
    : `Sign-up on this platform is open to addresses at ${settings.allowedEmailDomains.join(', ')}; others need an invitation.`;
}
