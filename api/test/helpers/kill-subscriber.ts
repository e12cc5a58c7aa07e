import type { Redis } from 'ioredis';
import type { TopicBus } from '@cic/core/lib/topic-bus';

/**
 * Has Redis drop `bus`'s subscriber connection (CLIENT KILL, as a Redis restart or a network cut would) and
 * resolves once the bus has reconnected, resubscribed and told its listeners to resync.
 */
export async function killSubscriber(admin: Redis, bus: TopicBus): Promise<void> {
  const line = ((await admin.client('LIST')) as string).split('\n').find((l) => l.includes(` name=${bus.connectionName} `));
  const id = line && /\bid=(\d+)/.exec(line)?.[1];
  if (!id) throw new Error(`no subscriber connection named ${bus.connectionName}`);
  const resynced = new Promise<void>((resolve) => {
    const off = bus.onResync(() => {
      off();
      resolve();
    });
  });
  await admin.client('KILL', 'ID', id);
  await resynced;
}
