import { Repeater } from 'graphql-yoga';
import { AppError } from '../errors.ts';
import type { Viewer } from '../services/auth/viewer.ts';
import type { LiveAuthorization, LiveCheck } from './live-authorization.ts';

export interface GuardOptions {
  live: LiveAuthorization;
  viewer: Viewer;
  check: LiveCheck;
}

/**
 * Passes events through while the viewer stays allowed: each event is re-authorized, and the stream
 * ends with an error as soon as the viewer's key is revoked or its session token expires, even between
 * events (so SSE streams stop too, not only WebSockets).
 */
export function guardSubscription<T>(source: AsyncIterable<T>, { live, viewer, check }: GuardOptions): AsyncIterable<T> {
  return new Repeater<T>(async (push, stop) => {
    const iterator = source[Symbol.asyncIterator]();
    let failure: Error | null = null;
    // Ending the source resolves its pending next() (pubsub iterators are Repeaters), so no per-event
    // Promise.race is needed: racing a long-lived promise would add a reaction to it for every event.
    const end = (err: Error) => {
      failure ??= err;
      void iterator.return?.();
    };
    const offRevoked = viewer.kind === 'apiKey'
      ? live.onKeyRevoked((keyId) => keyId === viewer.keyId && end(new AppError('UNAUTHENTICATED', 'This API key has been revoked.', { detail: 'invalid_api_key' })))
      : () => undefined;
    const expiry = viewer.kind === 'user'
      ? setTimeout(() => end(new AppError('UNAUTHENTICATED', 'The session token has expired; reconnect with a fresh one.', { detail: 'token_expired' })), Math.max(0, viewer.expiresAt.getTime() - Date.now()))
      : null;
    const offShutdown = live.onShutdown(() => end(new AppError('UNAVAILABLE', 'The server is restarting; reconnect.')));
    const cleanup = () => {
      offShutdown();
      offRevoked();
      if (expiry) clearTimeout(expiry);
    };
    void stop.then(() => {
      cleanup();
      void iterator.return?.();
    });
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || failure) break;
        await live.assertAllowed(viewer, check);
        await push(next.value);
      }
      stop(failure ?? undefined);
    } catch (err) {
      stop(err);
    } finally {
      cleanup();
    }
  });
}

/**
 * Coalesces bursts: sums numeric fields of events arriving within one window and emits at most
 * `perSecond` events a second (the latest non-numeric fields win).
 */
export function throttleSum<T extends Record<string, unknown>>(source: AsyncIterable<T>, perSecond: number, numericKeys: readonly (keyof T)[]): AsyncIterable<T> {
  const windowMs = Math.max(1, Math.floor(1000 / perSecond));
  return new Repeater<T>(async (push, stop) => {
    let pending: T | null = null;
    let lastSent = 0;
    let timer: NodeJS.Timeout | null = null;
    const flush = () => {
      timer = null;
      if (!pending) return;
      const out = pending;
      pending = null;
      lastSent = Date.now();
      void push(out);
    };
    const iterator = source[Symbol.asyncIterator]();
    void stop.then(() => {
      if (timer) clearTimeout(timer);
      void iterator.return?.();
    });
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      if (pending) {
        const merged: Record<string, unknown> = { ...next.value };
        for (const k of numericKeys) merged[k as string] = Number(pending[k]) + Number(next.value[k]);
        pending = merged as T;
      } else {
        pending = next.value;
      }
      if (!timer) timer = setTimeout(flush, Math.max(0, lastSent + windowMs - Date.now()));
    }
    if (timer) clearTimeout(timer);
    flush();
    stop();
  });
}
