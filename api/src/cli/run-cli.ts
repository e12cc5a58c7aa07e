import { AppError } from '@cic/core/errors';
import { ConfigError } from '@cic/core/lib/env';
import { openCliContext, parseCliEnv, type CliContext } from './cli-context.ts';
import { UsageError, type CliIO } from './cli-io.ts';
import { BOOTSTRAP_USAGE, runBootstrap } from './commands/bootstrap.ts';
import { KEYS_USAGE, runKeys } from './commands/keys.ts';
import { migrateDatabase, MIGRATE_USAGE } from './commands/migrate.ts';
import { MODELS_USAGE, runModels } from './commands/models.ts';
import { ORGS_USAGE, runOrgs } from './commands/orgs.ts';

/** Each command: its usage, and how it runs (with the database context, or only the environment for migrate). */
const COMMANDS: Record<string, { summary: string; usage: string; run: (ctx: CliContext, args: readonly string[]) => Promise<void> } | { summary: string; usage: string; migrate: true }> = {
  migrate: { summary: 'apply pending database migrations', usage: MIGRATE_USAGE, migrate: true },
  bootstrap: { summary: 'ensure the platform admin, their organization and API key', usage: BOOTSTRAP_USAGE, run: runBootstrap },
  models: { summary: 'list, add and price served models', usage: MODELS_USAGE, run: runModels },
  orgs: { summary: "grant credits to an organization", usage: ORGS_USAGE, run: runOrgs },
  keys: { summary: 'create an API key', usage: KEYS_USAGE, run: runKeys },
};

export const HELP = `cic: CIC's admin CLI (run from the repository or inside the api image: npx cic …)

usage: cic <command> [arguments]   (cic <command> --help for its arguments)

${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join('\n')}

Every command is idempotent: re-running it converges to the same state. Exit status: 0 done, 2 bad
arguments or environment (nothing changed), 1 anything else (e.g. the database is unreachable).

Environment: DATABASE_URL (required); REDIS_URL and REDIS_CHANNEL_PREFIX (optional: announce changes to
running API instances at once); BOOTSTRAP_ADMIN_EMAIL, BOOTSTRAP_API_KEY, BOOTSTRAP_API_KEY_SCOPES
(bootstrap's defaults); RATE_LIMIT_* as the API's (ceilings for keys create).`;

/** Runs one command line; returns the exit status. Never throws: errors are printed on `io.err`. */
export async function runCli(argv: readonly string[], rawEnv: NodeJS.ProcessEnv, io: CliIO): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && args[0] ? COMMANDS[args[0]] : undefined;
    (name === undefined ? io.err : io.out)(topic?.usage ?? HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`cic: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  let ctx: CliContext | undefined;
  try {
    const env = parseCliEnv(rawEnv);
    if ('migrate' in command) {
      if (args.length) throw new UsageError(`unexpected argument "${args[0]}"`, command.usage);
      await migrateDatabase({ databaseUrl: env.DATABASE_URL, io });
    } else {
      ctx = openCliContext(env, io);
      await command.run(ctx, args);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`cic ${name}: ${err.message}${err.usage ? `\n\nusage: ${err.usage}` : ''}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      io.err(`cic ${name}: ${err.message}`);
      return 2;
    }
    if (err instanceof AppError) {
      io.err(`cic ${name}: ${err.message}`);
      return err.code === 'BAD_REQUEST' ? 2 : 1;
    }
    // Prisma puts the call site before the reason (e.g. "Can't reach database server at …"): keep the reason.
    const reason = err instanceof Error ? err.message.trim().split('\n').at(-1)! : String(err);
    io.err(`cic ${name}: ${reason}`);
    return 1;
  } finally {
    await ctx?.close();
  }
}
