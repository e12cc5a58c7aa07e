import { fail } from '@sveltejs/kit';
import { KEY_FIELDS } from '$lib/graphql-fields';
import { monthStart, parseUsdBudget, spendByKey } from '$lib/key-spend';
import { actionMessage, gql, tryGql } from '$lib/server/api';
import { viewerContext } from '$lib/server/viewer';
import type { Actions, PageServerLoad } from './$types';

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  expiresAt: string | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
  dailyBudgetMicros: string | null;
  monthlyBudgetMicros: string | null;
  allowedModels: string[];
  /** Micro-dollars spent today and this month (UTC), as BigInt strings. */
  spend: { today: string; month: string };
}

type KeyNode = Omit<ApiKeyRow, 'spend'>;
interface KeysQuery {
  organization: {
    rateLimits: { defaultRpm: number; defaultTpm: number };
    apiKeys: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: KeyNode }[] };
    usage: { points: { bucket: string; apiKey: { id: string } | null; costMicros: string }[] };
  } | null;
  models: { name: string }[];
}

/** A date picked in the form ("2027-01-31") as the end of that UTC day, or null when empty. */
function expiry(form: FormData): string | null | 'invalid' {
  const raw = String(form.get('expiresOn') ?? '').trim();
  if (raw === '') return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(raw) && !Number.isNaN(Date.parse(raw)) ? `${raw}T23:59:59.999Z` : 'invalid';
}

export const load: PageServerLoad = async (event) => {
  const { organization } = await event.parent();
  const empty = { keys: [] as ApiKeyRow[], models: [] as string[], defaults: null, nextPage: null as string | null, paged: false };
  if (!organization) return { ...empty, problem: 'You are not a member of any organization yet.' };
  const after = event.url.searchParams.get('after');
  const res = await tryGql<KeysQuery>(event, `
    query Keys($id: ID!, $monthStart: DateTime!, $after: String) {
      organization(id: $id) {
        rateLimits { defaultRpm defaultTpm }
        apiKeys(first: 50, after: $after) {
          pageInfo { hasNextPage endCursor }
          edges { node { ${KEY_FIELDS} scopes dailyBudgetMicros monthlyBudgetMicros allowedModels } }
        }
        usage(from: $monthStart, granularity: DAY, groupBy: [KEY]) { points { bucket apiKey { id } costMicros } }
      }
      models { name }
    }
  `, { id: organization.id, monthStart: monthStart().toISOString(), after });
  const spend = spendByKey(res.data?.organization?.usage.points ?? []);
  const keys: ApiKeyRow[] = (res.data?.organization?.apiKeys.edges ?? []).map(({ node }) => {
    const s = spend.get(node.id);
    return { ...node, spend: { today: String(s?.todayMicros ?? 0n), month: String(s?.monthMicros ?? 0n) } };
  });
  const page = res.data?.organization?.apiKeys.pageInfo;
  return {
    keys, models: res.data?.models.map((m) => m.name) ?? [], problem: res.problem,
    /** The limits a key without its own gets (the organization's defaults, else the platform's). */
    defaults: res.data?.organization?.rateLimits ?? null,
    nextPage: page?.hasNextPage ? page.endCursor : null,
    paged: after !== null,
  };
};

/** The spend-control fields of a create or edit form, or the sentence saying what is wrong with them. */
function spendControls(form: FormData): { dailyBudgetMicros: string | null; monthlyBudgetMicros: string | null; allowedModels: string[] } | string {
  const dailyBudgetMicros = parseUsdBudget(String(form.get('dailyBudget') ?? ''));
  const monthlyBudgetMicros = parseUsdBudget(String(form.get('monthlyBudget') ?? ''));
  if (dailyBudgetMicros === 'invalid' || monthlyBudgetMicros === 'invalid') return 'Budgets are amounts in US dollars such as 5 or 0.25, or empty for no budget.';
  return { dailyBudgetMicros, monthlyBudgetMicros, allowedModels: form.getAll('allowedModels').map(String) };
}

/** An empty field means "the platform default"; anything else must be a positive whole number. */
function limit(form: FormData, name: string): number | null | 'invalid' {
  const raw = String(form.get(name) ?? '').trim();
  if (raw === '') return null;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : 'invalid';
}

export const actions: Actions = {
  create: async (event) => {
    const { organization } = await viewerContext(event);
    if (!organization) return fail(400, { action: 'create', message: 'You are not a member of any organization, so there is nowhere to create a key.' });
    const form = await event.request.formData();
    const name = String(form.get('name') ?? '').trim();
    const rpmLimit = limit(form, 'rpmLimit');
    const tpmLimit = limit(form, 'tpmLimit');
    if (!name) return fail(400, { action: 'create', message: 'Give the key a name, e.g. "production backend".' });
    if (rpmLimit === 'invalid' || tpmLimit === 'invalid') return fail(400, { action: 'create', message: 'Limits are whole numbers above 0, or empty for the platform default.' });
    const controls = spendControls(form);
    if (typeof controls === 'string') return fail(400, { action: 'create', message: controls });
    const expiresAt = expiry(form);
    if (expiresAt === 'invalid') return fail(400, { action: 'create', message: 'Pick the expiry date in the calendar, or leave it empty for a key that does not expire.' });
    // None checked: the API's default (inference).
    const scopes = form.getAll('scopes').map(String);
    try {
      const data = await gql<{ createApiKey: { secret: string; apiKey: { id: string; name: string } } }>(event, `
        mutation CreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name } } }
      `, { input: { organizationId: organization.id, name, ...(scopes.length > 0 ? { scopes } : {}), expiresAt, rpmLimit, tpmLimit, ...controls } });
      return { action: 'create', created: { name: data.createApiKey.apiKey.name, secret: data.createApiKey.secret } };
    } catch (err) {
      return fail(400, { action: 'create', message: actionMessage(err) });
    }
  },
  rotate: async (event) => {
    const id = String((await event.request.formData()).get('id') ?? '');
    try {
      const data = await gql<{ rotateApiKey: { secret: string; apiKey: { name: string } } }>(event, 'mutation RotateKey($id: ID!) { rotateApiKey(id: $id) { secret apiKey { id name } } }', { id });
      return { action: 'rotate', created: { name: data.rotateApiKey.apiKey.name, secret: data.rotateApiKey.secret, rotated: true } };
    } catch (err) {
      return fail(400, { action: 'rotate', message: actionMessage(err) });
    }
  },
  revoke: async (event) => {
    const id = String((await event.request.formData()).get('id') ?? '');
    try {
      await gql(event, 'mutation RevokeKey($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', { id });
      return { action: 'revoke', ok: true, message: 'Key revoked. Requests with it now fail with 401.' };
    } catch (err) {
      return fail(400, { action: 'revoke', message: actionMessage(err) });
    }
  },
  limits: async (event) => {
    const form = await event.request.formData();
    const id = String(form.get('id') ?? '');
    const rpmLimit = limit(form, 'rpmLimit');
    const tpmLimit = limit(form, 'tpmLimit');
    if (rpmLimit === 'invalid' || tpmLimit === 'invalid') return fail(400, { action: 'limits', message: 'Limits are whole numbers above 0, or empty for the platform default.' });
    const controls = spendControls(form);
    if (typeof controls === 'string') return fail(400, { action: 'limits', message: controls });
    try {
      await gql(event, 'mutation KeyLimits($input: UpdateApiKeyLimitsInput!) { updateApiKeyLimits(input: $input) { id rpmLimit tpmLimit } }', { input: { id, rpmLimit, tpmLimit } });
      await gql(event, `
        mutation KeySpendControls($input: UpdateApiKeySpendControlsInput!) { updateApiKeySpendControls(input: $input) { id dailyBudgetMicros monthlyBudgetMicros allowedModels } }
      `, { input: { id, ...controls } });
      return { action: 'limits', ok: true, message: 'Limits saved; they apply within a few seconds.' };
    } catch (err) {
      return fail(400, { action: 'limits', message: actionMessage(err) });
    }
  },
};
