import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

export const DONE = '[DONE]';

/** Sends the headers at once, as vLLM's StreamingResponse does before the first token. */
export function openEventStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
  res.flushHeaders();
}

const frame = (data: unknown): string => `data: ${data === DONE ? DONE : JSON.stringify(data)}\n\n`;

/**
 * One event per write, so clients see real chunk boundaries; waits for 'drain' when the
 * socket buffer is full, so a slow reader slows generation instead of growing memory.
 */
export async function writeEvent(res: ServerResponse, data: unknown, signal: AbortSignal): Promise<void> {
  if (!res.write(frame(data))) await once(res, 'drain', { signal });
}

/** Ends a stream that already started with an error event, as vLLM does mid-stream. */
export function endWithError(res: ServerResponse, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.write(frame(body));
  res.end(frame(DONE));
}
