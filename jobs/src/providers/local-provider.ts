import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import type { NodeProvider } from './types.ts';
import { ProviderError } from './types.ts';

// The simulator package's bin (`cic-vllm-sim`), run with this Node.
const SIMULATOR_BIN = createRequire(import.meta.url).resolve('@cic/vllm-sim/bin');

interface LocalChild {
  child: ChildProcess;
  url: string;
}

export interface LocalProvider extends NodeProvider {
  /** Cluster names of the simulators this worker runs. */
  running(): string[];
  /** Stops every simulator this worker started (worker shutdown). */
  stopAll(): Promise<void>;
}

const stop = (child: ChildProcess): Promise<void> => new Promise((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) return resolve();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  child.once('exit', () => { clearTimeout(timer); resolve(); });
  child.kill('SIGTERM');
});

/**
 * Nodes that are vLLM simulator child processes of this worker, on a free loopback port: the same
 * lifecycle as a cloud node on one machine (npm start, tests). Children live and die with the worker
 * (SIM_EXIT_WHEN_STDIN_CLOSES, so even a kill -9 takes them along): after a restart, reconcile finds
 * their pid gone and marks the node FAILED.
 */
export function localProvider(): LocalProvider {
  const children = new Map<string, LocalChild>();

  return {
    async launch({ node, config, apiKey, signal, log }) {
      const existing = children.get(node.clusterName);
      if (existing && existing.child.exitCode === null) return { endpointUrl: existing.url, config: { localPid: existing.child.pid } };
      const args = [SIMULATOR_BIN, '--host', '127.0.0.1', '--port', '0', '--model', node.model.name, ...config.vllmArgs];
      await log(`starting simulator: cic-vllm-sim ${args.slice(1).join(' ')}`);
      // Not bound to the job's signal: the child must outlive the job that started it, but not the
      // worker: it exits when the stdin pipe we hold closes, which happens however the worker dies.
      // The key goes in VLLM_API_KEY (as on a real node), never in the logged arguments.
      if (!apiKey) throw new ProviderError('a LOCAL node needs its API key');
      const env = { ...process.env, SIM_EXIT_WHEN_STDIN_CLOSES: '1', VLLM_API_KEY: apiKey };
      const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
      const onAbort = () => child.kill('SIGKILL');
      signal.addEventListener('abort', onAbort, { once: true });
      const url = await new Promise<string>((resolve, reject) => {
        const stderr: string[] = [];
        createInterface({ input: child.stderr! }).on('line', (line) => { stderr.push(line); void log(line); });
        createInterface({ input: child.stdout! }).on('line', (line) => {
          try {
            const msg = JSON.parse(line) as { event?: string; url?: string };
            if (msg.event === 'listening' && msg.url) resolve(msg.url);
          } catch { /* not the listening line */ }
        });
        child.once('error', (err) => reject(new ProviderError(`simulator failed to start: ${err.message}`)));
        child.once('exit', (code, sig) => reject(new ProviderError(`simulator exited (${sig ?? `code ${code}`}): ${stderr.slice(-3).join(' | ')}`)));
      }).finally(() => signal.removeEventListener('abort', onAbort));
      children.set(node.clusterName, { child, url });
      child.once('exit', () => children.delete(node.clusterName));
      await log(`simulator pid ${child.pid} listening on ${url}`);
      return { endpointUrl: url, config: { localPid: child.pid } };
    },
    async terminate({ node, log }) {
      const entry = children.get(node.clusterName);
      if (entry) {
        await stop(entry.child);
        await log(`simulator pid ${entry.child.pid} stopped`);
      } else {
        // Started by another worker process: it stopped when that worker did.
        await log('simulator process already gone');
      }
    },
    running: () => [...children.keys()],
    async stopAll() {
      await Promise.all([...children.values()].map((c) => stop(c.child)));
    },
  };
}

/**
 * Whether the process runs: it answers signal 0 and is not a zombie (exited, but not yet reaped by its
 * parent; an orphan's zombie lingers wherever the init process does not reap, as in some containers).
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true; // no procfs (not Linux): signal 0 is all we know
  }
  // "pid (comm) S …": the state follows the last ')' (comm may contain parentheses).
  return stat[stat.lastIndexOf(')') + 2] !== 'Z';
}
