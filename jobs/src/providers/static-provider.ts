import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isLinkLocalAddress, nodeUrlProblem } from '@cic/core/nodes/node-url';
import type { NodeProvider } from './types.ts';
import { ProviderError } from './types.ts';

export interface StaticProviderOptions {
  /** NODE_ALLOW_LINK_LOCAL_URLS. @defaultValue false */
  allowLinkLocal: boolean;
}

/**
 * An already running vLLM server (config.baseUrl): nothing to launch or tear down; the node is
 * health-checked and routed to like the others, with the key its admin gave (if any). Operators with
 * existing GPU servers start here. The URL is checked again here (it may predate the policy), and a host
 * name must not resolve to a link-local address now; a name re-pointed later is not caught (docs/security.md#nodes-every-hop-to-a-vllm-server-is-authenticated).
 */
export function staticProvider({ allowLinkLocal }: StaticProviderOptions): NodeProvider {
  return {
    async launch({ config, log }) {
      if (!config.baseUrl) throw new ProviderError('a STATIC node needs config.baseUrl (the vLLM server\'s base URL)');
      const problem = nodeUrlProblem(config.baseUrl, { allowLinkLocal });
      if (problem) throw new ProviderError(`config.baseUrl cannot be used: ${problem}`);
      const host = new URL(config.baseUrl).hostname.replace(/^\[|\]$/g, '');
      if (!allowLinkLocal && !isIP(host)) {
        const addresses = await lookup(host, { all: true }).catch((err: Error) => { throw new ProviderError(`cannot resolve ${host}: ${err.message}`); });
        const bad = addresses.find((a) => isLinkLocalAddress(a.address));
        if (bad) throw new ProviderError(`config.baseUrl cannot be used: ${host} resolves to the link-local address ${bad.address} (set NODE_ALLOW_LINK_LOCAL_URLS=true to allow it)`);
      }
      await log(`registering existing vLLM server ${config.baseUrl}`);
      return { endpointUrl: config.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '') };
    },
    async terminate({ log }) {
      await log('static node: the server keeps running; CIC stops routing to it');
    },
  };
}
