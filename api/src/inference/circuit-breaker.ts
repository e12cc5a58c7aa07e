/** 0 closed, 1 half-open, 2 open: the values of the `cic_circuit_state` gauge. */
export const CIRCUIT_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
export type CircuitState = keyof typeof CIRCUIT_STATE_VALUE;

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses traffic before letting one probe through. */
  cooldownMs: number;
  onChange?: (state: CircuitState) => void;
  now?: () => number;
}

/**
 * A per-node breaker: after `failureThreshold` consecutive failures the node gets no traffic for
 * `cooldownMs`; then exactly one request probes it (half-open). Its success closes the circuit, its
 * failure opens it for another cooldown.
 */
export class CircuitBreaker {
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probing = false;
  readonly #options: Required<Omit<CircuitBreakerOptions, 'onChange'>> & Pick<CircuitBreakerOptions, 'onChange'>;

  constructor(options: CircuitBreakerOptions) {
    this.#options = { now: Date.now, ...options };
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** Whether a request may be sent now (without taking the half-open probe slot). */
  available(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') return this.#options.now() - this.#openedAt >= this.#options.cooldownMs;
    return !this.#probing;
  }

  /** Call right before sending; in half-open it takes the one probe slot. */
  acquire(): boolean {
    if (!this.available()) return false;
    if (this.#state === 'open') this.#set('half-open');
    if (this.#state === 'half-open') this.#probing = true;
    return true;
  }

  success(): void {
    this.#failures = 0;
    this.#probing = false;
    if (this.#state !== 'closed') this.#set('closed');
  }

  failure(): void {
    this.#failures++;
    this.#probing = false;
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= this.#options.failureThreshold)) {
      this.#openedAt = this.#options.now();
      this.#set('open');
    }
  }

  /** A probe that ended without telling anything about the node (client gone, 4xx) frees the slot. */
  release(): void {
    this.#probing = false;
  }

  #set(state: CircuitState): void {
    this.#state = state;
    this.#options.onChange?.(state);
  }
}
