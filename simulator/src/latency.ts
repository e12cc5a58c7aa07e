import type { Engine } from './engine.ts';
import type { ResolvedSimulatorOptions } from './options.ts';
import type { Random } from './prng.ts';

/** Draws the next delay; both grow with the number of running sequences. */
export interface LatencyModel {
  ttftMs(): number;
  itlMs(): number;
}

type LatencyOptions = Pick<
  ResolvedSimulatorOptions,
  'ttftMs' | 'ttftSpreadMs' | 'itlMs' | 'itlSpreadMs' | 'loadFactor' | 'maxNumSeqs'
>;

export function createLatencyModel(options: LatencyOptions, random: Random, engine: Engine): LatencyModel {
  // Linear from 1× with one running sequence to loadFactor× with a full batch, as in llm-d.
  const underLoad = (): number => {
    if (options.loadFactor === 1) return 1;
    const share = options.maxNumSeqs <= 1 ? 1 : (engine.runningCount - 1) / (options.maxNumSeqs - 1);
    return 1 + (options.loadFactor - 1) * Math.min(1, Math.max(0, share));
  };
  return {
    ttftMs: () => random.around(options.ttftMs, options.ttftSpreadMs) * underLoad(),
    itlMs: () => random.around(options.itlMs, options.itlSpreadMs) * underLoad(),
  };
}
