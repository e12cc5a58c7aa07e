/**
 * What the dashboard tells a person when the API refuses something: one plain sentence per GraphQL
 * `extensions.code` (browser-safe; server loads and actions, and live updates, all go through here).
 *
 * Only BAD_USER_INPUT and CONFLICT keep the API's own message: it names the field or rule at fault
 * ("the last owner cannot leave") and is written for people. Every other code has its sentence here, so
 * resolver paths, scope names and internals never reach the page.
 */
const SENTENCES: Record<string, string> = {
  FORBIDDEN: 'Your role in this organization does not allow that. Ask an owner or admin of the organization.',
  UNAUTHENTICATED: 'Your session has ended. Sign in again.',
  NOT_FOUND: 'That no longer exists, or it is not yours to see. Reload the page to see what is there now.',
  RATE_LIMITED: 'Too many requests in a short time. Wait a moment, then try again.',
  SUBSCRIPTION_LIMIT: 'Too many live pages are open for this account. Close a few tabs, then reload.',
  INSUFFICIENT_QUOTA: 'The organization has no credit left. Buy credits on the Billing page.',
  PAYLOAD_TOO_LARGE: 'That is too large to send. Shorten it, then try again.',
  METHOD_NOT_ALLOWED: 'The dashboard sent a request the API does not take. Reload the page, then try again.',
  SERVICE_UNAVAILABLE: 'The service is restarting or busy; nothing was changed. Try again in a moment.',
  BAD_GATEWAY: 'The service is restarting or busy; nothing was changed. Try again in a moment.',
  GATEWAY_TIMEOUT: 'The service took too long to answer; it may or may not have been done. Reload the page to check.',
};

const UNEXPECTED = 'Something went wrong on our side. Reload the page to see whether it was done, then try again';

/** The API's own words, for the codes whose messages are written for people. */
const OWN_WORDS = new Set(['BAD_USER_INPUT', 'CONFLICT']);

export interface Refusal {
  code: string;
  message: string;
  /** extensions.requestId: lets an operator find the request in the API's log. */
  requestId?: string | null;
}

const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

/** The sentence to show for a GraphQL error the API answered with. */
export function refusalSentence({ code, message, requestId }: Refusal): string {
  if (OWN_WORDS.has(code) && message.trim()) return sentence(message);
  return SENTENCES[code] ?? `${UNEXPECTED}${requestId ? `; if it keeps happening, give an operator this request id: ${requestId}` : ''}.`;
}
