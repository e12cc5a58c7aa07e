import { sleep, type Fault } from './fault.ts';

/** kill -9 of redis-server (append-only file, fsync every second), restarted 2 s later on its port with its data. */
export const redisKill: Fault = {
  name: 'redis-kill9',
  what: 'kill -9 of Redis (appendonly yes, appendfsync everysec), restarted 2 s later on the same port from its append-only file',
  durationSeconds: 15,
  atSecond: 5,
  settleSeconds: { min: 3, max: 60 },
  async strike({ stack, log }) {
    log('kill -9 of redis-server');
    await stack.stores.redis.kill('SIGKILL');
    await sleep(2_000);
    await stack.stores.redis.start();
    log('redis-server is back');
  },
};
