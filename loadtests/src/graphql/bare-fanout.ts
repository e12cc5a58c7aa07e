/**
 * The GraphQL benchmark's reference point: the least a server can do to fan a Redis event out to
 * graphql-ws subscribers. It speaks just enough of the protocol for the same clients (ack every
 * connection_init, remember each subscribe's id) and sends each event as a `next` frame with the fields
 * the benchmark selects: no authentication, no GraphQL execution, no re-authorization. What remains is
 * the irreducible part: one JSON frame and one socket write per subscriber.
 *
 * Usage: bare-fanout.ts <redis url> <channel>; prints `{"event":"listening","url":…}`. `GET /stats` answers its
 * CPU seconds, heap and RSS (run with --expose-gc and gc-on-signal.mjs to read live heap).
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

const subscriptions = new Map<WebSocket, string>();
const server = createServer((req, res) => {
  if (req.url !== '/stats') return void res.writeHead(404).end();
  const cpu = process.cpuUsage();
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
    cpuSeconds: (cpu.user + cpu.system) / 1e6, heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, sockets: subscriptions.size,
  }));
});
const wss = new WebSocketServer({ server, path: '/graphql' });
wss.on('connection', (socket) => {
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; id?: string };
    if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    else if (message.type === 'subscribe') subscriptions.set(socket, message.id!);
  });
  socket.on('close', () => subscriptions.delete(socket));
});

const redis = new Redis(process.argv[2]!);
await redis.subscribe(process.argv[3]!);
redis.on('message', (_channel: string, text: string) => {
  const event = JSON.parse(text) as { nodeId: string; status: string; reason: string | null };
  const data = { nodeStatusChanged: { id: event.nodeId, status: event.status, statusReason: event.reason } };
  for (const [socket, id] of subscriptions) socket.send(JSON.stringify({ id, type: 'next', payload: { data } }));
});

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` }));
});
process.on('SIGTERM', () => {
  redis.disconnect();
  for (const socket of subscriptions.keys()) socket.terminate();
  server.close(() => process.exit(0));
});
