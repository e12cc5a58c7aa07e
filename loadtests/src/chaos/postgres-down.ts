import { sleep, type Fault } from './fault.ts';

const DOWN_SECONDS = 10;

/** Postgres stopped for 10 s under load: keys are served from the API's cache, usage waits in the Redis stream. */
export const postgresDown: Fault = {
  name: 'postgres-down',
  what: `Postgres stopped (fast shutdown) for ${DOWN_SECONDS} s, then started again on the same port with its data`,
  durationSeconds: 20,
  atSecond: 3,
  settleSeconds: { min: 3, max: 60 },
  async strike({ stack, log }) {
    log('stopping Postgres');
    await stack.stores.postgres.stop();
    await sleep(DOWN_SECONDS * 1_000);
    await stack.stores.postgres.start();
    log('Postgres is back');
  },
};
