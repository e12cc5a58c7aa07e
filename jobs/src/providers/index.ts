import type { NodeProvider } from '@cic/db';
import type { JobsConfig } from '../config.ts';
import { localDriver, type LocalDriver } from './local-driver.ts';
import { skyPilotDriver } from './skypilot/skypilot-driver.ts';
import { staticDriver } from './static-driver.ts';
import type { NodeDriver } from './types.ts';

export interface Drivers {
  byProvider: Record<NodeProvider, NodeDriver>;
  local: LocalDriver;
}

/** One driver per provider, configured from the jobs config. */
export function createDrivers(config: JobsConfig): Drivers {
  const local = localDriver();
  return {
    local,
    byProvider: {
      SKYPILOT: skyPilotDriver({
        skyBin: config.SKY_BIN,
        launchTimeoutMs: config.SKY_LAUNCH_TIMEOUT_SECONDS * 1000,
        commandTimeoutMs: config.SKY_COMMAND_TIMEOUT_SECONDS * 1000,
        retryUntilUp: config.SKY_RETRY_UNTIL_UP,
      }),
      LOCAL: local,
      STATIC: staticDriver(),
    },
  };
}
