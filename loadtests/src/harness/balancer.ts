import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP balancer: each new connection goes to the next backend, round robin, as an L4 load
 * balancer in front of API replicas would. Keep-alive connections stay on their backend. A backend that
 * refuses the connection (stopped or restarting) is skipped for the next one, as a balancer with health
 * checks would; connections already open to a backend that dies are cut.
 */
export async function startBalancer(backends: { host: string; port: number }[]): Promise<{ url: string; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  function open(client: Socket, attemptsLeft: number) {
    const target = backends[next++ % backends.length]!;
    const upstream = connect(target.port, target.host);
    track(upstream);
    const refused = () => {
      upstream.destroy();
      if (attemptsLeft > 1 && !client.destroyed) open(client, attemptsLeft - 1);
      else client.destroy();
    };
    upstream.once('error', refused);
    upstream.once('connect', () => {
      upstream.off('error', refused);
      upstream.on('error', () => client.destroy());
      client.once('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    });
  }
  const server: Server = createServer((client) => {
    track(client);
    // Until a backend accepts, the client's bytes wait in its socket (no reader yet).
    client.on('error', () => client.destroy());
    open(client, backends.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
