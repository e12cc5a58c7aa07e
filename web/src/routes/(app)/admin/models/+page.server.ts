import { fail } from '@sveltejs/kit';
import { runAction, tryGql } from '$lib/server/api';
import { requirePlatformAdmin } from '$lib/server/require-admin';
import { viewerContext } from '$lib/server/viewer';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

export interface ModelRow {
  id: string; name: string; displayName: string | null; description: string | null; source: string | null; maxModelLen: number;
  enabled: boolean; isPublic: boolean; promptPriceMicros: string; completionPriceMicros: string; readyNodes: number;
  accelerator: string | null; vllmVersion: string | null; vllmArgs: string[]; secretEnvNames: string[]; organizations: { id: string; name: string }[];
}

export const load: PageServerLoad = async (event) => {
  requirePlatformAdmin((await event.parent()).viewer);
  const res = await tryGql<{ models: ModelRow[]; organizations: { edges: { node: { id: string; name: string; slug: string } }[] } }>(event, `
    query AdminModels {
      models {
        id name displayName description source maxModelLen enabled isPublic promptPriceMicros completionPriceMicros readyNodes
        accelerator vllmVersion vllmArgs secretEnvNames organizations { id name }
      }
      organizations(first: 100) { edges { node { id name slug } } }
    }
  `);
  return {
    models: res.data?.models ?? [],
    organizations: res.data?.organizations.edges.map((e) => e.node) ?? [],
    editing: event.url.searchParams.get('edit'),
    problem: res.problem,
  };
};

/** USD per million tokens (as typed) to micro-dollars; null when it is not a number. */
function micros(value: FormDataEntryValue | null): string | null {
  const text = String(value ?? '').trim();
  if (!/^\d+(\.\d{1,6})?$/.test(text)) return null;
  const [whole, frac = ''] = text.split('.');
  return (BigInt(whole!) * 1_000_000n + BigInt(frac.padEnd(6, '0'))).toString();
}

/**
 * The model's settings from the add/edit form. vLLM arguments never contain spaces (the API refuses them),
 * so the text area splits on any whitespace: `--tool-call-parser hermes` on one line is two arguments.
 */
function settings(form: FormData, { clearing }: { clearing: boolean }) {
  const text = (k: string) => String(form.get(k) ?? '').trim() || (clearing ? null : undefined);
  const words = (k: string) => String(form.get(k) ?? '').split(/[\s,]+/).filter(Boolean);
  const limited = form.get('visibility') === 'limited';
  const contextLength = String(form.get('maxModelLen') ?? '').trim();
  return {
    displayName: text('displayName'), description: text('description'), source: text('source'),
    maxModelLen: contextLength ? Number(contextLength) : undefined,
    accelerator: text('accelerator'), vllmVersion: text('vllmVersion'),
    vllmArgs: String(form.get('vllmArgs') ?? '').split(/\s+/).filter(Boolean), secretEnvNames: words('secretEnvNames'),
    isPublic: !limited, organizationIds: limited ? form.getAll('organizationIds').map(String) : [],
  };
}

/** Platform admins only (the API checks too), then the mutation as a form action. */
async function run(event: RequestEvent, action: string, query: string, variables: Record<string, unknown>, message: string) {
  requirePlatformAdmin((await viewerContext(event)).viewer);
  return runAction(event, action, query, variables, message);
}

export const actions: Actions = {
  create: async (event) => {
    const form = await event.request.formData();
    const name = String(form.get('name') ?? '').trim();
    const prompt = micros(form.get('prompt'));
    const completion = micros(form.get('completion'));
    if (!name) return fail(400, { action: 'create', ok: false, message: 'Give the model the name clients will send, e.g. Qwen/Qwen2.5-7B-Instruct.' });
    if (!prompt || !completion) return fail(400, { action: 'create', ok: false, message: 'Prices are USD per million tokens, e.g. 0.2.' });
    return run(event, 'create', 'mutation CreateModel($input: CreateModelInput!) { createModel(input: $input) { id } }',
      { input: { name, ...settings(form, { clearing: false }), promptPriceMicros: prompt, completionPriceMicros: completion } },
      `Model ${name} added. Launch nodes for it on the Nodes page.`);
  },
  update: async (event) => {
    const form = await event.request.formData();
    return run(event, 'update', 'mutation UpdateModel($input: UpdateModelInput!) { updateModel(input: $input) { id } }',
      { input: { id: String(form.get('id') ?? ''), ...settings(form, { clearing: true }) } }, 'Model saved; nodes launched from now on use its settings.');
  },
  price: async (event) => {
    const form = await event.request.formData();
    const prompt = micros(form.get('prompt'));
    const completion = micros(form.get('completion'));
    if (!prompt || !completion) return fail(400, { action: 'price', ok: false, message: 'Prices are USD per million tokens, e.g. 0.5.' });
    return run(event, 'price', 'mutation Price($input: UpdateModelPriceInput!) { updateModelPrice(input: $input) { id } }',
      { input: { modelId: String(form.get('modelId')), promptPriceMicros: prompt, completionPriceMicros: completion } }, 'Price saved; new requests use it.');
  },
  enabled: async (event) => {
    const form = await event.request.formData();
    const enabled = form.get('enabled') === 'true';
    return run(event, 'enabled', 'mutation SetModelEnabled($id: ID!, $enabled: Boolean!) { setModelEnabled(id: $id, enabled: $enabled) { id enabled } }',
      { id: String(form.get('id') ?? ''), enabled }, enabled ? 'Model enabled.' : 'Model disabled: not listed, not routed, no new nodes.');
  },
};
