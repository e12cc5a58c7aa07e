const PROVIDERS = ['LOCAL', 'SKYPILOT', 'STATIC'] as const;

/**
 * The launchNode input from the Nodes page's launch form: only the fields the chosen provider takes (a
 * STATIC node its server's URL and key; the others vLLM arguments, SkyPilot also the source and where it
 * runs), whatever else the form posts: the API would refuse a key for a non-STATIC node.
 * Empty fields are left out, so the model's launch defaults apply.
 */
export function launchNodeInput(form: FormData) {
  const field = (k: string) => String(form.get(k) ?? '').trim() || null;
  const provider = PROVIDERS.find((p) => p === form.get('provider')) ?? 'LOCAL';
  if (provider === 'STATIC') return { model: field('model'), provider, config: { baseUrl: field('baseUrl'), apiKey: field('apiKey') } };
  const vllmArgs = String(form.get('vllmArgs') ?? '').split(/\s+/).filter(Boolean);
  const sky = provider === 'SKYPILOT';
  return {
    model: field('model'), provider,
    ...(sky ? { accelerator: field('accelerator'), cloud: field('cloud'), region: field('region') } : {}),
    config: { ...(sky && field('modelSource') ? { modelSource: field('modelSource') } : {}), ...(vllmArgs.length ? { vllmArgs } : {}) },
  };
}
