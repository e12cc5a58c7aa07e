import { redirect } from '@sveltejs/kit';
import { signIn, signInProviders } from '$lib/server/auth';
import type { Actions, PageServerLoad } from './$types';

/** Auth.js error codes worth explaining (the rest get a generic line). */
const ERRORS: Record<string, string> = {
  Verification: 'That sign-in link has expired or was already used. Ask for a new one below.',
  OAuthAccountNotLinked: 'This email already signs in another way. Use the method you used first.',
  AccessDenied: 'Sign-in was refused.',
  Configuration: 'Sign-in is misconfigured on the server. Check the dashboard log.',
};

const safeRedirect = (to: string | null) => (to && to.startsWith('/') && !to.startsWith('//') ? to : '/');

export const load: PageServerLoad = async ({ locals, url }) => {
  const redirectTo = safeRedirect(url.searchParams.get('redirectTo') ?? url.searchParams.get('callbackUrl'));
  if (locals.userId) redirect(303, redirectTo);
  const code = url.searchParams.get('error');
  return {
    providers: signInProviders().filter((p) => p.type !== 'email'),
    redirectTo,
    error: code ? ERRORS[code] ?? `Sign-in failed (${code}). Try again.` : null,
  };
};

export const actions: Actions = { default: signIn };
