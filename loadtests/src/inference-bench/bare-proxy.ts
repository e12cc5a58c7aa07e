/**
 * The reference point of the benchmark: a bare node:http pass-through proxy (keep-alive undici Pool, no
 * auth, no limits, no metering) in its own process. Usage: bare-proxy.ts <upstream origin>; prints
 * `{"event":"listening","url":…}`.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const upstream = new Pool(process.argv[2]!, { connections: 256, keepAliveTimeout: 30_000 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const abort = new AbortController();
    res.once('close', () => { if (!res.writableFinished) abort.abort(); });
    upstream
      .request({ path: req.url ?? '/', method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks), signal: abort.signal })
      .then(async (up) => {
        res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
        for await (const chunk of up.body) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        res.end();
      })
      .catch(() => res.destroy());
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` }));
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void upstream.close().then(() => process.exit(0));
});
