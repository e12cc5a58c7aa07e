/** A seeded PRNG, so a run with the same `--seed` injects the same failures and jitter. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [mean − spread, mean + spread], never below 0. */
  around(mean: number, spread: number): number;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: tiny, fast and good enough for jitter and coin flips. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    around(mean, spread) {
      if (spread <= 0) return mean;
      return Math.max(0, mean + (next() * 2 - 1) * spread);
    },
    pick(items) {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('pick() needs a non-empty list');
      return item;
    },
  };
}
