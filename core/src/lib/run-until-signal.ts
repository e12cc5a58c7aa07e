import type { Logger } from '../logger.ts';

interface Service {
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

/** Signals after the first that do not cut the drain short: an orchestrator or a terminal often sends two. */
const IGNORED_REPEATS = 1;

/**
 * Starts a service and stops it once on SIGTERM/SIGINT. A repeated signal does not skip the drain (a
 * supervisor and a Ctrl-C, or a process group, easily deliver two); only the third forces an exit, as does
 * the orchestrator's own deadline (SIGKILL).
 */
export async function runUntilSignal(service: Service, log: Logger): Promise<void> {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1 + IGNORED_REPEATS) {
      log.warn({ signal }, 'signal repeated again: exiting now, without finishing the drain');
      process.exit(1);
    }
    if (signals > 1) {
      log.warn({ signal }, 'already shutting down; the drain goes on (send the signal once more to exit at once)');
      return;
    }
    log.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await service.start();
}
