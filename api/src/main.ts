import { buildApi } from './app.ts';
import { loadApiConfig } from './config.ts';
import { ConfigError } from './lib/env.ts';
import { createLogger } from './logger.ts';
import { runUntilSignal } from './lib/run-until-signal.ts';

try {
  const config = loadApiConfig();
  const log = createLogger({ level: config.LOG_LEVEL, service: 'api' });
  await runUntilSignal(buildApi({ config, log }), log);
} catch (err) {
  console.error(err instanceof ConfigError ? `api: ${err.message}` : err);
  process.exit(1);
}
