import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';

/** Token counts as vLLM reports them (OpenAI's usage object). */
export interface UpstreamUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

const BOUNDARY = '\n\n';
const LF = 0x0a;
const USAGE = Buffer.from('"usage"');
/** How every vLLM completion chunk begins (error events and [DONE] do not). */
const EVENT_START = Buffer.from('data: {"id":');

/**
 * Watches a vLLM SSE stream on its way to the client without re-serializing it. Bytes are forwarded as
 * they came; eventsource-parser reads a copy to find the usage (on whichever chunk carries it), the
 * `[DONE]` marker and error events. When the client did not ask for usage, the usage-only chunk
 * (`choices: []`) that the proxy requested for metering is cut out at its event boundaries: only then
 * are bytes held back until an event is complete.
 */
export class SseRelay {
  usage: UpstreamUsage | undefined;
  /** An `error` object vLLM sent mid-stream. */
  error: unknown;
  sawDone = false;
  readonly #strip: boolean;
  readonly #chat: boolean;
  #events = 0;
  readonly #parser: EventSourceParser;
  readonly #decoder = new TextDecoder();
  #usageOnly = false;
  #carry: Buffer | undefined;
  /** Whether everything fed so far ended at an event boundary (the parser holds no partial event). */
  #atBoundary = true;

  constructor(options: { stripUsageChunk: boolean; chat: boolean }) {
    this.#strip = options.stripUsageChunk;
    this.#chat = options.chat;
    this.#parser = createParser({ onEvent: (event) => this.#onEvent(event) });
  }

  /**
   * Completion chunks seen, less the chat role chunk: vLLM streams one token per chunk, so this is the
   * completion-token estimate when usage never came.
   */
  get tokenEvents(): number {
    return Math.max(0, this.#events - (this.#chat ? 1 : 0));
  }

  /** The bytes of `chunk` to send to the client now (maybe none). */
  push(chunk: Buffer): Buffer | undefined {
    if (!this.#strip) {
      if (this.#plainText(chunk)) return chunk;
      this.#parser.feed(this.#decoder.decode(chunk, { stream: true }));
      this.#atBoundary = chunk.length >= 2 && chunk.at(-1) === LF && chunk.at(-2) === LF;
      return chunk;
    }
    const data = this.#carry ? Buffer.concat([this.#carry, chunk]) : chunk;
    const end = data.lastIndexOf(BOUNDARY);
    if (end < 0) {
      this.#carry = data;
      return undefined;
    }
    const complete = end + BOUNDARY.length;
    this.#carry = complete < data.length ? data.subarray(complete) : undefined;
    const kept: Buffer[] = [];
    let dropped = false;
    for (let start = 0; start < complete; ) {
      const stop = data.indexOf(BOUNDARY, start) + BOUNDARY.length;
      const event = data.subarray(start, stop);
      if (this.#plainText(event)) {
        kept.push(event);
        start = stop;
        continue;
      }
      this.#usageOnly = false;
      this.#parser.feed(event.toString('utf8'));
      if (this.#usageOnly) dropped = true;
      else kept.push(event);
      start = stop;
    }
    if (!dropped) return data.subarray(0, complete);
    return kept.length > 0 ? Buffer.concat(kept) : undefined;
  }

  /** Whatever was held back when the stream ended (an incomplete last event, forwarded as is). */
  finish(): Buffer | undefined {
    const rest = this.#carry;
    this.#carry = undefined;
    if (rest) this.#parser.feed(rest.toString('utf8'));
    return rest;
  }

  /**
   * Most chunks are one whole text event, `data: {"id":…,"choices":[…]}\n\n`. When such a chunk starts
   * where the last one ended and does not mention usage, the parser has nothing to learn from it: it is
   * only counted. This keeps the per-token cost of the proxy to two native byte searches.
   */
  #plainText(chunk: Buffer): boolean {
    const n = chunk.length;
    if (!this.#atBoundary || n < EVENT_START.length + 2 || chunk[n - 1] !== LF || chunk[n - 2] !== LF) return false;
    for (let i = 0; i < EVENT_START.length; i++) if (chunk[i] !== EVENT_START[i]) return false;
    if (chunk.indexOf(BOUNDARY) !== n - 2 || chunk.includes(USAGE)) return false;
    this.#events++;
    return true;
  }

  #onEvent({ data }: EventSourceMessage): void {
    if (data === '[DONE]') {
      this.sawDone = true;
      return;
    }
    // Only chunks that may carry usage or an error are parsed; text chunks are merely counted.
    if (data.includes('"usage"') || data.includes('"error"')) {
      try {
        const parsed = JSON.parse(data) as { usage?: UpstreamUsage | null; error?: unknown; choices?: unknown[] };
        if (parsed.error) this.error = parsed.error;
        if (parsed.usage) {
          this.usage = parsed.usage;
          if (Array.isArray(parsed.choices) && parsed.choices.length === 0) {
            this.#usageOnly = true;
            return;
          }
        }
        if (parsed.error) return;
      } catch {
        // Not JSON: forwarded untouched, as vLLM sent it.
      }
    }
    this.#events++;
  }
}
