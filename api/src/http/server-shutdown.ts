/**
 * The reason in-flight requests are aborted with when the shutdown grace period runs out, so a handler
 * can tell the server ending a request from the client leaving (and tell the client so before the close).
 */
export class ServerShutdown extends Error {
  override name = 'ServerShutdown';
  constructor() {
    super('server shutting down');
  }
}

/** How long aborted requests get to write their last words (an error event) before their sockets are cut. */
export const LAST_WORDS_MS = 1_000;
