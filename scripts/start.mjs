#!/usr/bin/env node
// `npm start`: installs what is missing, then runs scripts/platform.ts in this same process (with tsx's
// loader), so the launcher is one process that handles every stop signal itself. Only Node built-ins
// before that, because node_modules may not exist yet.
import { aptLockTimeoutSeconds } from './lib/system-packages.mjs';
import { ensureInstalled } from './lib/ensure-installed.mjs';

try {
  aptLockTimeoutSeconds(); // a bad value fails now, not when a package turns out to be missing
} catch (err) {
  console.error(`[start] ${err.message}`);
  process.exit(1);
}
ensureInstalled({ log: (m) => console.log(`[start] ${m}`) });
await import('tsx');
await import('./platform.ts');
