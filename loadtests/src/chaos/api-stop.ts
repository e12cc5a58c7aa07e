import type { Fault } from './fault.ts';

/**
 * Stops API instance 0 of 2 with `signal` while it serves the load, then starts it again on its port (as
 * a supervisor would). SIGTERM: it drains (in-flight streams finish or end with an error event). SIGKILL:
 * its in-flight requests are cut and must be metered from its admission journal by the surviving instance.
 */
export function apiStop(signal: 'SIGTERM' | 'SIGKILL'): Fault {
  return {
    name: signal === 'SIGTERM' ? 'api-sigterm' : 'api-kill9',
    what: signal === 'SIGTERM'
      ? 'SIGTERM to API instance 1 of 2 (graceful drain), restarted on its port once it exited'
      : 'kill -9 of API instance 1 of 2, restarted on its port at once',
    durationSeconds: 15,
    atSecond: 5,
    // A killed instance's admissions are recovered once its liveness key expires (15 s) and its
    // unacknowledged usage-stream entries are claimed after 60 s idle.
    settleSeconds: signal === 'SIGKILL' ? { min: 25, max: 90 } : { min: 3, max: 30 },
    async strike({ stack, log }) {
      log(`${signal} to ${stack.apis[0]!.name}`);
      await stack.apis[0]!.stop(signal);
      await stack.restartApi(0);
      log(`${stack.apis[0]!.name} is ready again`);
    },
  };
}
