import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Subscriber {
  client: Client;
  /** Sequence numbers received, and each one's publish→receive latency in ms. */
  received: Map<number, number>;
  errors: number;
}

const QUERY = 'subscription($nodeId: ID) { nodeStatusChanged(nodeId: $nodeId) { id status statusReason } }';

/**
 * Opens `count` graphql-ws connections (in batches, as browsers reconnecting would) each subscribed to
 * nodeStatusChanged. The publisher encodes `bench:<seq>:<epoch ms>` in the status reason, so latency is
 * measured end to end: Redis publish → API → WebSocket frame parsed here.
 */
export async function openSubscribers(options: { url: string; token: string; nodeId: string; count: number; batch?: number }): Promise<Subscriber[]> {
  const { url, token, nodeId, count, batch = 100 } = options;
  const subscribers: Subscriber[] = [];
  for (let start = 0; start < count; start += batch) {
    const opened = Array.from({ length: Math.min(batch, count - start) }, () => {
      const sub: Subscriber = { client: null as unknown as Client, received: new Map(), errors: 0 };
      return new Promise<Subscriber>((resolve, reject) => {
        sub.client = createClient({
          url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0,
          connectionParams: { authorization: `Bearer ${token}` },
          on: { connected: () => resolve(sub), error: reject },
        });
        sub.client.subscribe<{ nodeStatusChanged: { statusReason: string | null } }>({ query: QUERY, variables: { nodeId } }, {
          next: (r) => {
            const reason = r.data?.nodeStatusChanged.statusReason ?? '';
            const m = /^bench:(\d+):(\d+)$/.exec(reason);
            if (m) sub.received.set(Number(m[1]), Date.now() - Number(m[2]));
            if (r.errors) sub.errors += 1;
          },
          error: () => (sub.errors += 1),
          complete: () => undefined,
        });
      });
    });
    subscribers.push(...(await Promise.all(opened)));
  }
  return subscribers;
}
