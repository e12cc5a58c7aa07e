import { Repeater } from 'graphql-yoga';

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
