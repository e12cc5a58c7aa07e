import { runCli } from './run-cli.ts';

// Prisma's WebAssembly schema engine (migrate) leaves a timer running: end the process explicitly.
process.exit(await runCli(process.argv.slice(2), process.env, { out: (line) => console.log(line), err: (line) => console.error(line) }));
