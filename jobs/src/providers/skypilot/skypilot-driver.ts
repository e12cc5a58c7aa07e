import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../run-command.ts';
import type { NodeDriver, ProviderContext } from '../types.ts';
import { ProviderError } from '../types.ts';
import { parseSkyStatus } from './parse-sky-status.ts';
import { renderTask } from './render-task.ts';

export interface SkyPilotDriverOptions {
  /** The sky CLI (a name looked up on PATH, or a path). @defaultValue "sky" */
  skyBin: string;
  launchTimeoutMs: number;
  commandTimeoutMs: number;
  /** Add `--retry-until-up` to `sky launch`. @defaultValue false */
  retryUntilUp: boolean;
}

/** Combines the job's signal with a per-command timeout. */
const within = (signal: AbortSignal, ms: number): AbortSignal => AbortSignal.any([signal, AbortSignal.timeout(ms)]);

/**
 * Nodes on any cloud SkyPilot supports. Launch is idempotent on the cluster name: `sky launch -c NAME`
 * on an existing cluster reuses it, so a launch retried after a worker crash never makes a second one.
 */
export function skyPilotDriver({ skyBin, launchTimeoutMs, commandTimeoutMs, retryUntilUp }: SkyPilotDriverOptions): NodeDriver {
  const sky = (args: string[], signal: AbortSignal, label: string, ctx?: ProviderContext) =>
    runCommand({ bin: skyBin, args, signal, label, onLine: ctx ? (line) => void ctx.log(line) : undefined });

  return {
    async launch(ctx) {
      const { node, config } = ctx;
      const dir = await mkdtemp(join(tmpdir(), 'cic-sky-'));
      try {
        const taskFile = join(dir, `${node.clusterName}.yaml`);
        await writeFile(taskFile, renderTask({
          cluster: node.clusterName, servedModelName: node.model.name, accelerator: node.accelerator, cloud: node.cloud, region: node.region, config,
        }));
        const envArgs = config.secretEnvNames.filter((name) => process.env[name] !== undefined).flatMap((name) => ['--env', name]);
        const missing = config.secretEnvNames.filter((name) => process.env[name] === undefined);
        if (missing.length) await ctx.log(`secrets not set in the worker's environment (not passed): ${missing.join(', ')}`);
        const args = ['launch', '-c', node.clusterName, taskFile, '-y', '--detach-setup', '--detach-run', ...envArgs, ...(retryUntilUp ? ['--retry-until-up'] : [])];
        await ctx.log(`$ sky ${args.map((a) => (a === taskFile ? `${node.clusterName}.yaml` : a)).join(' ')}`);
        await sky(args, within(ctx.signal, launchTimeoutMs), 'sky launch', ctx);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      const out = await sky(['status', '--endpoint', String(config.port), node.clusterName], within(ctx.signal, commandTimeoutMs), 'sky status --endpoint');
      const endpoint = out.trim().split('\n').pop()?.trim() ?? '';
      if (!endpoint) throw new ProviderError('sky status --endpoint printed no endpoint');
      return { endpointUrl: /^https?:\/\//.test(endpoint) ? endpoint : `http://${endpoint}` };
    },
    async terminate(ctx) {
      await ctx.log(`$ sky down -y ${ctx.node.clusterName}`);
      const clusters = await this.listClusters!(within(ctx.signal, commandTimeoutMs));
      if (!clusters.some((c) => c.name === ctx.node.clusterName)) {
        await ctx.log(`cluster ${ctx.node.clusterName} does not exist (already down)`);
        return;
      }
      await sky(['down', '-y', ctx.node.clusterName], within(ctx.signal, commandTimeoutMs), 'sky down', ctx);
    },
    async listClusters(signal) {
      return parseSkyStatus(await sky(['status', '--refresh'], within(signal, commandTimeoutMs), 'sky status'));
    },
  };
}
