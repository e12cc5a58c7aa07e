import type { Logger } from '../logger.ts';

interface Service {
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts a service and stops it once on SIGTERM/SIGINT; a second signal exits at once. */
export async function runUntilSignal(service: Service, log: Logger): Promise<void> {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
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
