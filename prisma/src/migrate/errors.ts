/**
 * A migration operation failed. `code` is Prisma's error code when the schema engine gave one (e.g.
 * P3009: a failed migration blocks new ones until resolved); `migrationName` names the migration being
 * applied when it failed.
 */
export class MigrationError extends Error {
  override name = 'MigrationError';
  readonly code: string | undefined;
  readonly migrationName: string | undefined;

  constructor(message: string, options: { code?: string; migrationName?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.migrationName = options.migrationName;
  }

  /** Wraps an engine error, keeping its Prisma code and dropping the engine's Rust span trace. */
  static from(error: unknown): MigrationError {
    if (error instanceof MigrationError) return error;
    const raw = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown } | null)?.code;
    const migrationName = /migration_name="([^"]+)"/.exec(raw)?.[1];
    // The engine appends "   0: module::function\n  with …\n  at file.rs:line" frames after the message.
    const traceStart = raw.search(/^\s+\d+: /m);
    const message = (traceStart >= 0 ? raw.slice(0, traceStart) : raw).trim();
    return new MigrationError(migrationName ? `Migration ${migrationName} failed: ${message}` : message, {
      code: typeof code === 'string' ? code : undefined,
      migrationName,
      cause: error,
    });
  }
}
