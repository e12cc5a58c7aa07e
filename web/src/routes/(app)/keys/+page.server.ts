import { fail } from '@sveltejs/kit';
import { KEY_FIELDS } from '$lib/graphql-fields';
import { actionMessage, gql, tryGql } from '$lib/server/api';
import { viewerContext } from '$lib/server/viewer';
import type { Actions, PageServerLoad } from './$types';

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  expiresAt: string | null;
  rpmLimit: number | null;
  tpmLimit: number | null;
}

export const load: PageServerLoad = async (event) => {
  const { organization } = await event.parent();
  if (!organization) return { keys: [] as ApiKeyRow[], problem: 'You are not a member of any organization yet.' };
  const res = await tryGql<{ organization: { apiKeys: { edges: { node: ApiKeyRow }[] } } | null }>(event, `
    query Keys($id: ID!) { organization(id: $id) { apiKeys(first: 50) { edges { node { ${KEY_FIELDS} } } } } }
  `, { id: organization.id });
  return { keys: res.data?.organization?.apiKeys.edges.map((e) => e.node) ?? [], problem: res.problem };
};

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
    try {
      const data = await gql<{ createApiKey: { secret: string; apiKey: { id: string; name: string } } }>(event, `
        mutation CreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id name } } }
      `, { input: { organizationId: organization.id, name, rpmLimit, tpmLimit } });
      return { action: 'create', created: { name: data.createApiKey.apiKey.name, secret: data.createApiKey.secret } };
    } catch (err) {
      return fail(400, { action: 'create', message: actionMessage(err) });
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
    try {
      await gql(event, 'mutation KeyLimits($input: UpdateApiKeyLimitsInput!) { updateApiKeyLimits(input: $input) { id rpmLimit tpmLimit } }', { input: { id, rpmLimit, tpmLimit } });
      return { action: 'limits', ok: true, message: 'Limits saved; they apply within a few seconds.' };
    } catch (err) {
      return fail(400, { action: 'limits', message: actionMessage(err) });
    }
  },
};
