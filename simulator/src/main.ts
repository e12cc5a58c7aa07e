// Entry point of the `cic-vllm-sim` bin: `cic-vllm-sim --model NAME --port 8000 …`.
import { parseCliOptions } from './cli-args.ts';
import { createSimulator } from './server.ts';

let options;
try {
  options = parseCliOptions(process.argv.slice(2), process.env);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}

const simulator = await createSimulator(options);
// One machine-readable line, so a parent that asked for port 0 learns the real one.
process.stdout.write(`${JSON.stringify({ event: 'listening', url: simulator.url, model: options.model })}\n`);

const stop = (): void => {
  simulator.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`simulator: close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// Set by the jobs worker's local provider, which keeps our stdin open: when the worker dies, even by
// kill -9, the pipe closes and the simulator stops with it instead of serving on as an orphan.
if (process.env.SIM_EXIT_WHEN_STDIN_CLOSES === '1') process.stdin.once('end', stop).resume();
