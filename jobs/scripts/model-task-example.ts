// The docs' real-model example (docs/jobs.md, "A real model, end to end"): the `npx cic models add` line
// for a Hugging Face model and the SkyPilot task the workers then hand to `sky launch` for it, printed by
// the real renderer from the model's launch defaults. `npx tsx jobs/scripts/model-task-example.ts` rewrites
// the block in docs/jobs.md; jobs/test/real-model.test.ts adds the model with the CLI, launches a node
// through GraphQL and checks that the task `sky launch` received and the docs block are this one.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { modelLaunchDefaults } from '@cic/core/models/model-launch-defaults';
import { nodeClusterName } from '@cic/core/nodes/launch-node';
import { nodeConfigSchema } from '@cic/core/nodes/node-config';
import { renderTask } from '../src/providers/skypilot/render-task.ts';

/** The catalog entry, as an operator adds it. */
export const QWEN = {
  name: 'Qwen/Qwen2.5-7B-Instruct',
  source: 'Qwen/Qwen2.5-7B-Instruct',
  maxModelLen: 32768,
  promptPriceUsd: '0.2',
  completionPriceUsd: '0.6',
  accelerator: 'L4:1',
  // vLLM's own context length, and tool calling with the parser for Qwen 2.5's (Hermes-style) tool calls.
  vllmArgs: ['--max-model-len', '32768', '--enable-auto-tool-choice', '--tool-call-parser', 'hermes'],
  secretEnvNames: ['HF_TOKEN'],
} as const;

/** `npx cic models add …` for it, argument by argument. */
export const QWEN_ADD_ARGS: string[] = [
  'models', 'add', QWEN.name, '--source', QWEN.source, '--max-model-len', String(QWEN.maxModelLen),
  '--prompt-price', QWEN.promptPriceUsd, '--completion-price', QWEN.completionPriceUsd, '--accelerator', QWEN.accelerator,
  ...QWEN.vllmArgs.map((arg) => `--vllm-arg=${arg}`), ...QWEN.secretEnvNames.flatMap((name) => ['--secret-env', name]),
];

/** A node's cluster name ends in 8 random hex digits; the docs show these. */
export const EXAMPLE_CLUSTER = nodeClusterName(QWEN.name, '1a2b3c4d');

/** The task for a SKYPILOT launch of the model with no settings of its own (so all come from the model), HF_TOKEN set on the workers. */
export function renderQwenTask(cluster = EXAMPLE_CLUSTER): string {
  const config = nodeConfigSchema.parse(modelLaunchDefaults({ source: QWEN.source, vllmVersion: null, vllmArgs: [...QWEN.vllmArgs], secretEnvNames: [...QWEN.secretEnvNames] }));
  return renderTask({ cluster, servedModelName: QWEN.name, accelerator: QWEN.accelerator, cloud: null, region: null, secretNames: [...QWEN.secretEnvNames], config });
}

export const DOCS_FILE = fileURLToPath(new URL('../../docs/jobs.md', import.meta.url));
const BEGIN = '<!-- begin: written by jobs/scripts/model-task-example.ts (jobs/test/real-model.test.ts checks it) -->';
const END = '<!-- end: model-task-example -->';

/** The generated part of the docs section: the command and the task. */
export function docsBlock(): string {
  const command = ['npx cic', ...QWEN_ADD_ARGS].join(' ').replace(/ (--(?:source|prompt-price|accelerator|vllm-arg=--max-model-len|secret-env)\b)/g, ' \\\n    $1');
  return `${BEGIN}\n\`\`\`sh\n${command}\n\`\`\`\n\nThe task the workers write for \`sky launch\` when a node of it is launched (provider \`SKYPILOT\`, no settings of its own):\n\n<!-- not run: the task the renderer prints; jobs/test/real-model.test.ts compares it with what \`sky launch\` receives -->\n\`\`\`yaml\n${renderQwenTask()}\`\`\`\n${END}`;
}

/** The block as docs/jobs.md has it now (undefined when the markers are missing). */
export function docsBlockInFile(text = readFileSync(DOCS_FILE, 'utf8')): string | undefined {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  return start < 0 || end < start ? undefined : text.slice(start, end + END.length);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = readFileSync(DOCS_FILE, 'utf8');
  const current = docsBlockInFile(text);
  if (current === undefined) throw new Error(`${DOCS_FILE}: the markers ${BEGIN} … ${END} are missing`);
  writeFileSync(DOCS_FILE, text.replace(current, docsBlock()));
  console.log(`wrote the real-model example into ${DOCS_FILE}`);
}
