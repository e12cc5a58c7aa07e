import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; request-scoped children carry `requestId`. */
export function createLogger({ level = 'info', service }: { level?: string; service: string }): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.apiKey', '*.secret'], censor: '[redacted]' },
  });
}
