import { SimulatorError, contextTooLong, modelNotFound } from './errors.ts';
import { type FailureConfig, type FailureType, failureConfigSchema } from './options.ts';
import type { Random } from './prng.ts';

export interface FailureInjector {
  /** Current settings, as set at start-up or by `setFailure` / `POST /_sim/failure`. */
  readonly config: { rate: number; types: FailureType[] };
  set(config: FailureConfig): void;
  /** Decides whether this request fails, and how. `stream_cut` is only drawn for streams. */
  draw(stream: boolean): FailureType | undefined;
}

export function createFailureInjector(random: Random, initial: FailureConfig): FailureInjector {
  let config = failureConfigSchema.parse(initial);
  return {
    get config() {
      return { rate: config.rate, types: [...config.types] };
    },
    set(next) {
      config = failureConfigSchema.parse(next);
    },
    draw(stream) {
      if (config.rate <= 0 || random.next() >= config.rate) return undefined;
      const candidates = stream ? config.types : config.types.filter((type) => type !== 'stream_cut');
      return candidates.length > 0 ? random.pick(candidates) : undefined;
    },
  };
}

/** The error a request gets for an injected failure (all but `stream_cut`, which happens mid-stream). */
export function injectedError(
  type: Exclude<FailureType, 'stream_cut'>,
  request: { model: string; promptTokens: number; maxModelLen: number },
): SimulatorError {
  switch (type) {
    case 'rate_limit':
      return new SimulatorError(429, 'Too many requests. Please retry later.', null, type);
    case 'server_error':
      return new SimulatorError(500, 'Internal server error.', null, type);
    case 'model_not_found':
      return new SimulatorError(404, modelNotFound(request.model).message, 'model', type);
    case 'context_length': {
      const { message } = contextTooLong(request.maxModelLen, request.promptTokens, request.maxModelLen);
      return new SimulatorError(400, message, null, type);
    }
  }
}
