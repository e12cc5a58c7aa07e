import { redirect } from '@sveltejs/kit';
import { signIn, signInProviders } from '$lib/server/auth';
import { safeRedirectPath } from '$lib/server/safe-redirect';
import type { Actions, PageServerLoad } from './$types';

/** Auth.js error codes worth explaining (the rest get a generic line). */
const ERRORS: Record<string, string> = {
  Verification: 'That sign-in link has expired or was already used. Ask for a new one below.',
  OAuthAccountNotLinked: 'This email already signs in another way. Use the method you used first.',
  AccessDenied: 'Sign-in was refused.',
  Configuration: 'Sign-in is misconfigured on the server. Check the dashboard log.',
  SignUpClosed: 'This address has no account here, and this platform does not let it create one: sign-up is by invitation (or open to some email domains only). Ask an administrator of your organization to invite this address.',
};

/** The magic-link throttle's refusal, with the wait it reported (?retryAfter=seconds). */
function rateLimited(retryAfter: string | null): string {
  const seconds = Number(retryAfter);
  const minutes = Number.isFinite(seconds) && seconds > 0 ? Math.min(Math.ceil(seconds / 60), 24 * 60) : 1;
  return `Too many sign-in links were asked for. Wait ${minutes} minute${minutes === 1 ? '' : 's'}, then try again, or use a link already sent.`;
}

export const load: PageServerLoad = async ({ locals, url }) => {
  const redirectTo = safeRedirectPath(url.searchParams.get('redirectTo') ?? url.searchParams.get('callbackUrl'));
  if (locals.userId) redirect(303, redirectTo);
  const code = url.searchParams.get('error');
  return {
    providers: signInProviders().filter((p) => p.type !== 'email'),
    redirectTo,
    error: code === 'RateLimited' ? rateLimited(url.searchParams.get('retryAfter')) : code ? ERRORS[code] ?? `Sign-in failed (${code}). Try again.` : null,
  };
};

export const actions: Actions = { default: signIn };
