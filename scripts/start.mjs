#!/usr/bin/env node
// `npm start`: installs what is missing, then hands over to scripts/platform.ts (which needs tsx).
// Only Node built-ins here, because node_modules may not exist yet.
import { spawn } from 'node:child_process';
import { ensureInstalled } from './lib/ensure-installed.mjs';

ensureInstalled({ log: (m) => console.log(`[start] ${m}`) });

const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/platform.ts', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
