import { describe, expect, it } from 'vitest';
import { launchNodeInput } from '../../src/lib/server/launch-node-input.ts';

const form = (fields: Record<string, string>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
};
/** Everything the form could post, for every provider at once. */
const ALL = {
  model: 'm', baseUrl: 'http://10.0.0.5:8000', apiKey: 'k-1', modelSource: 'Qwen/Qwen2.5-7B-Instruct', accelerator: 'L4:1',
  cloud: 'gcp', region: 'us-central1', vllmArgs: ' --max-model-len  8192\n--enforce-eager ',
};

describe('launchNodeInput', () => {
  it('STATIC: the running server\'s base URL and key, nothing else', () => {
    expect(launchNodeInput(form({ ...ALL, provider: 'STATIC' }))).toEqual({ model: 'm', provider: 'STATIC', config: { baseUrl: 'http://10.0.0.5:8000', apiKey: 'k-1' } });
  });

  it('SKYPILOT: source, where it runs and vLLM arguments split on whitespace; never a key', () => {
    expect(launchNodeInput(form({ ...ALL, provider: 'SKYPILOT' }))).toEqual({
      model: 'm', provider: 'SKYPILOT', accelerator: 'L4:1', cloud: 'gcp', region: 'us-central1',
      config: { modelSource: 'Qwen/Qwen2.5-7B-Instruct', vllmArgs: ['--max-model-len', '8192', '--enforce-eager'] },
    });
  });

  it('LOCAL (also for an unknown provider): vLLM arguments only', () => {
    const local = { model: 'm', provider: 'LOCAL', config: { vllmArgs: ['--max-model-len', '8192', '--enforce-eager'] } };
    expect(launchNodeInput(form({ ...ALL, provider: 'LOCAL' }))).toEqual(local);
    expect(launchNodeInput(form({ ...ALL, provider: 'EVIL' }))).toEqual(local);
  });

  it('leaves empty fields out, so the model\'s launch defaults apply', () => {
    expect(launchNodeInput(form({ model: 'm', provider: 'SKYPILOT', accelerator: ' ', modelSource: '', vllmArgs: '  ' })))
      .toEqual({ model: 'm', provider: 'SKYPILOT', accelerator: null, cloud: null, region: null, config: {} });
  });
});
