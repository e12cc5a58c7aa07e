import type { NodeProvider as ProviderName } from '@cic/db';
import type { JobsConfig } from '../config.ts';
import { localProvider, type LocalProvider } from './local-provider.ts';
import { skyPilotProvider } from './skypilot/skypilot-provider.ts';
import { staticProvider } from './static-provider.ts';
import type { NodeProvider } from './types.ts';

export interface Providers {
  /** The provider that runs each kind of node (the `nodes.provider` column). */
  byName: Record<ProviderName, NodeProvider>;
  local: LocalProvider;
}

/** One provider per `nodes.provider` value, configured from the jobs config. */
export function createProviders(config: JobsConfig): Providers {
  const local = localProvider();
  return {
    local,
    byName: {
      SKYPILOT: skyPilotProvider({
        skyBin: config.SKY_BIN,
        launchTimeoutMs: config.SKY_LAUNCH_TIMEOUT_SECONDS * 1000,
        commandTimeoutMs: config.SKY_COMMAND_TIMEOUT_SECONDS * 1000,
        retryUntilUp: config.SKY_RETRY_UNTIL_UP,
        allowLinkLocal: config.NODE_ALLOW_LINK_LOCAL_URLS,
      }),
      LOCAL: local,
      STATIC: staticProvider({ allowLinkLocal: config.NODE_ALLOW_LINK_LOCAL_URLS }),
    },
  };
}
