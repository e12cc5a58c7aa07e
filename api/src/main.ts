import { buildApi } from './app.ts';
import { loadApiConfig } from './config.ts';
import { ConfigError } from '@cic/core/lib/env';
import { createLogger } from '@cic/core/logger';
import { runUntilSignal } from '@cic/core/lib/run-until-signal';

try {
  const config = loadApiConfig();
  const log = createLogger({ level: config.LOG_LEVEL, service: 'api' });
  await runUntilSignal(buildApi({ config, log }), log);
} catch (err) {
  console.error(err instanceof ConfigError ? `api: ${err.message}` : err);
  process.exit(1);
}
