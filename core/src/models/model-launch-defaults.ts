import type { ServedModel } from '@cic/db';
import type { NodeConfig } from '../nodes/node-config.ts';

/**
 * The node config a launch for `model` starts from: its source, vLLM version, vLLM arguments and secret env
 * names. A launch's own settings replace these one by one; what neither sets takes the node config's defaults.
 */
export function modelLaunchDefaults(model: Pick<ServedModel, 'source' | 'vllmVersion' | 'vllmArgs' | 'secretEnvNames'>): Partial<NodeConfig> {
  return {
    ...(model.source ? { modelSource: model.source } : {}),
    ...(model.vllmVersion ? { vllmVersion: model.vllmVersion } : {}),
    vllmArgs: model.vllmArgs,
    secretEnvNames: model.secretEnvNames,
  };
}
