import { ConfigError } from '@cic/core/lib/env';
import { createLogger } from '@cic/core/logger';
import { runUntilSignal } from '@cic/core/lib/run-until-signal';
import { buildWorkers } from './app.ts';
import { loadJobsConfig } from './config.ts';

try {
  const config = loadJobsConfig();
  const log = createLogger({ level: config.LOG_LEVEL, service: 'jobs' });
  await runUntilSignal(buildWorkers({ config, log }), log);
} catch (err) {
  console.error(err instanceof ConfigError ? `jobs: ${err.message}` : err);
  process.exit(1);
}
