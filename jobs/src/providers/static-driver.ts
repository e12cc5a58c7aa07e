import type { NodeDriver } from './types.ts';
import { ProviderError } from './types.ts';

/**
 * An already running vLLM server (config.baseUrl): nothing to launch or tear down; the node is
 * health-checked and routed to like the others. Operators with existing GPU servers start here.
 */
export function staticDriver(): NodeDriver {
  return {
    async launch({ config, log }) {
      if (!config.baseUrl) throw new ProviderError('a STATIC node needs config.baseUrl (the vLLM server\'s base URL)');
      await log(`registering existing vLLM server ${config.baseUrl}`);
      return { endpointUrl: config.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '') };
    },
    async terminate({ log }) {
      await log('static node: the server keeps running; CIC stops routing to it');
    },
  };
}
