import { isIP } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeUrlProblem } from '@cic/core/nodes/node-url';
import { runCommand } from '../run-command.ts';
import type { NodeProvider, ProviderContext } from '../types.ts';
import { ProviderError } from '../types.ts';
import { parseSkyStatus } from './parse-sky-status.ts';
import { NODE_API_KEY_ENV, renderTask } from './render-task.ts';

export interface SkyPilotProviderOptions {
  /** The sky CLI (a name looked up on PATH, or a path). @defaultValue "sky" */
  skyBin: string;
  launchTimeoutMs: number;
  commandTimeoutMs: number;
  /** Add `--retry-until-up` to `sky launch`. @defaultValue false */
  retryUntilUp: boolean;
  /** NODE_ALLOW_LINK_LOCAL_URLS: accept a cluster IP in 169.254.0.0/16. @defaultValue false */
  allowLinkLocal: boolean;
}

/** Combines the job's signal with a per-command timeout. */
const within = (signal: AbortSignal, ms: number): AbortSignal => AbortSignal.any([signal, AbortSignal.timeout(ms)]);

/**
 * Nodes on any cloud SkyPilot supports. Launch is idempotent on the cluster name: `sky launch -c NAME`
 * on an existing cluster reuses it, so a launch retried after a worker crash never makes a second one.
 * Secrets (the node's API key, `secretEnvNames`) go to SkyPilot as `--secret NAME` with the value in the
 * sky process's environment: never in the task file, the arguments or the node's events.
 */
export function skyPilotProvider({ skyBin, launchTimeoutMs, commandTimeoutMs, retryUntilUp, allowLinkLocal }: SkyPilotProviderOptions): NodeProvider {
  const sky = (args: string[], signal: AbortSignal, label: string, ctx?: ProviderContext, env?: Record<string, string>) =>
    runCommand({ bin: skyBin, args, signal, label, env, onLine: ctx ? (line) => void ctx.log(line) : undefined });

  return {
    async launch(ctx) {
      const { node, config, apiKey } = ctx;
      if (!apiKey) throw new ProviderError('a SkyPilot node needs its API key');
      const present = config.secretEnvNames.filter((name) => process.env[name] !== undefined);
      const missing = config.secretEnvNames.filter((name) => process.env[name] === undefined);
      if (missing.length) await ctx.log(`secrets not set in the worker's environment (not passed): ${missing.join(', ')}`);
      const task = renderTask({
        cluster: node.clusterName, servedModelName: node.model.name, accelerator: node.accelerator, cloud: node.cloud, region: node.region, secretNames: present, config,
      });
      const dir = await mkdtemp(join(tmpdir(), 'cic-sky-'));
      try {
        const taskFile = join(dir, `${node.clusterName}.yaml`);
        await writeFile(taskFile, task, { mode: 0o600 });
        const secretArgs = [NODE_API_KEY_ENV, ...present].flatMap((name) => ['--secret', name]);
        const args = ['launch', '-c', node.clusterName, taskFile, '-y', '--detach-setup', '--detach-run', ...secretArgs, ...(retryUntilUp ? ['--retry-until-up'] : [])];
        await ctx.log(`$ sky ${args.map((a) => (a === taskFile ? `${node.clusterName}.yaml` : a)).join(' ')}`);
        await sky(args, within(ctx.signal, launchTimeoutMs), 'sky launch', ctx, { [NODE_API_KEY_ENV]: apiKey });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      // The head node's IP (the cluster network's, with SkyPilot's use_internal_ips): the vLLM port is not
      // opened to the internet, so only a CIC on the same network (VPC, VPN, Kubernetes) reaches it.
      const out = await sky(['status', '--ip', node.clusterName], within(ctx.signal, commandTimeoutMs), 'sky status --ip');
      const ip = out.trim().split('\n').pop()?.trim() ?? '';
      if (!isIP(ip)) throw new ProviderError(`sky status --ip printed no IP address: ${JSON.stringify(ip.slice(0, 80))}`);
      const endpointUrl = `http://${isIP(ip) === 6 ? `[${ip}]` : ip}:${config.port}`;
      const problem = nodeUrlProblem(endpointUrl, { allowLinkLocal });
      if (problem) throw new ProviderError(`the cluster's address cannot be used: ${problem}`);
      return { endpointUrl };
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
