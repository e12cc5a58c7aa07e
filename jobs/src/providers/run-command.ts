import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ProviderError } from './types.ts';

export interface RunCommandOptions {
  bin: string;
  args: string[];
  signal: AbortSignal;
  /** Called with each stdout/stderr line, in order. */
  onLine?: (line: string) => void;
  /** What to call the command in errors, e.g. "sky launch". */
  label: string;
  /** Variables added to the worker's environment for this command only (secrets: never in its arguments). */
  env?: Record<string, string>;
}

/**
 * Runs a program without a shell (argument array, like execFile) and streams its output line by line.
 * Resolves with stdout; rejects with a ProviderError carrying the last stderr lines on a non-zero exit,
 * and kills the process (SIGTERM, then SIGKILL) when the signal aborts.
 */
export function runCommand({ bin, args, signal, onLine, label, env }: RunCommandOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ProviderError(`${label} was not started: ${String(signal.reason)}`));
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    const tail: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => { stdout += `${line}\n`; onLine?.(line); });
    createInterface({ input: child.stderr }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 5) tail.shift();
      onLine?.(line);
    });
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(new ProviderError(`${label} could not run ${bin}: ${err.message}`));
    });
    child.once('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
      if (signal.aborted) {
        const why = signal.reason instanceof Error && signal.reason.name === 'TimeoutError' ? 'timed out' : 'was aborted';
        reject(new ProviderError(`${label} ${why}`));
      } else if (code === 0) {
        resolve(stdout);
      } else {
        reject(new ProviderError(`${label} failed (${sig ?? `exit code ${code}`}): ${tail.join(' | ') || 'no output'}`));
      }
    });
  });
}
