import { parseArgs, type ParseArgsConfig } from 'node:util';

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** Where a command writes: results on `out` (stdout, for scripts), notes and errors on `err` (stderr). */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

/** Bad flags, arguments or environment: the CLI prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly usage?: string) {
    super(message);
  }
}

/** node:util's parseArgs, strict, with its errors turned into UsageErrors that carry the command's usage. */
export function parseFlags<O extends FlagOptions>(args: readonly string[], options: O, usage: string, positionals: string[] = []) {
  let parsed;
  try {
    parsed = parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  if (parsed.positionals.length !== positionals.length) {
    throw new UsageError(positionals.length ? `expected ${positionals.join(' ')}` : `unexpected argument "${parsed.positionals[0]}"`, usage);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** A USD amount (`12`, `0.5`, up to six decimals) in micro-dollars, exactly. */
export function usdToMicros(text: string, flag: string, usage: string): bigint {
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} "${text}": expected a non-negative USD amount such as 0.5 (up to six decimals)`, usage);
  return BigInt(m[1]!) * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0'));
}

/** Micro-dollars as USD for people (`0.15`). */
export const microsToUsd = (micros: bigint): string => {
  const whole = micros / 1_000_000n;
  const frac = (micros % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
};

/** A positive whole number flag. */
export function positiveInt(text: string | undefined, flag: string, usage: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,10}$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} "${text}": expected a positive whole number`, usage);
  return Number(text);
}
