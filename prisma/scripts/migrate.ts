// Prisma migrations offline: `npx tsx prisma/scripts/migrate.ts <command>` (or `npm run migrate -w @cic/db -- <command>`).
//   deploy         apply pending migrations to DATABASE_URL (like `prisma migrate deploy`)
//   check          exit 0 when schema.prisma matches the migrations; exit 2 and print the SQL diff when not
//   create <name>  write migrations/<timestamp>_<name>/migration.sql for the changes in schema.prisma
//                  (--empty: even when there are none, for a hand-written migration)
// check and create replay the migrations in a temporary shadow database on SHADOW_DATABASE_URL's server
// (default DATABASE_URL's); the role needs CREATEDB.
import { relative } from 'node:path';
import { z } from 'zod';
import { createMigration, deployMigrations, diffSchemaAgainstMigrations, MigrationError } from '../src/migrate/index.ts';

const USAGE = 'usage: migrate <deploy | check | create <name> [--empty]>';

const envSchema = z.object({
  DATABASE_URL: z.string({ error: 'DATABASE_URL is required (postgresql://user:password@host:port/database)' }).min(1),
  SHADOW_DATABASE_URL: z.string().min(1).optional(),
});

function readConfig(): { databaseUrl: string; shadowDatabaseUrl: string } {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => issue.message).join('; '));
  return {
    databaseUrl: parsed.data.DATABASE_URL,
    shadowDatabaseUrl: parsed.data.SHADOW_DATABASE_URL ?? parsed.data.DATABASE_URL,
  };
}

class UsageError extends Error {
  override name = 'UsageError';
}

async function deploy(): Promise<number> {
  const { databaseUrl } = readConfig();
  const result = await deployMigrations({ databaseUrl });
  if (result.createdDatabase) console.log('Created the database.');
  for (const name of result.modifiedAfterApply) {
    console.warn(`warning: migration ${name} was modified after it was applied`);
  }
  if (result.applied.length === 0) {
    console.log('No pending migrations to apply.');
  } else {
    console.log(`Applied ${result.applied.length} migration${result.applied.length === 1 ? '' : 's'}:`);
    for (const name of result.applied) console.log(`  ${name}`);
  }
  return 0;
}

async function check(): Promise<number> {
  const { shadowDatabaseUrl } = readConfig();
  const diff = await diffSchemaAgainstMigrations({ databaseUrl: shadowDatabaseUrl });
  if (diff.inSync) {
    console.log('schema.prisma and the migrations are in sync.');
    return 0;
  }
  console.error('schema.prisma and the migrations differ; a new migration would run:');
  console.log(diff.script.trimEnd());
  console.error('Run `npm run migrate -w @cic/db -- create <name>` to add it.');
  return 2;
}

async function create(args: string[]): Promise<number> {
  const allowEmpty = args.includes('--empty');
  const [name, ...rest] = args.filter((arg) => arg !== '--empty');
  if (!name || rest.length > 0) throw new UsageError(`create takes one migration name. ${USAGE}`);
  const { shadowDatabaseUrl } = readConfig();
  const created = await createMigration({ name, databaseUrl: shadowDatabaseUrl, allowEmpty });
  if (!created) {
    console.error('error: no changes: schema.prisma already matches the migrations (use --empty for a hand-written one)');
    return 1;
  }
  console.log(`Created ${relative(process.cwd(), created.path)}`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'deploy':
      return deploy();
    case 'check':
      return check();
    case 'create':
      return create(args);
    default:
      throw new UsageError(command ? `unknown command "${command}". ${USAGE}` : USAGE);
  }
}

function oneLine(error: unknown): string {
  if (error instanceof MigrationError) {
    return `${error.code ? `${error.code}: ` : ''}${error.message}`.replace(/\s*\n\s*/g, ' ');
  }
  if (error instanceof UsageError) return error.message;
  const { code, message } = error as { code?: string; message?: string };
  return `${code ? `${code}: ` : ''}${message ?? String(error)}`.replace(/\s*\n\s*/g, ' ');
}

let exitCode: number;
try {
  exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`error: ${oneLine(error)}`);
  exitCode = 1;
}
// Pools and engine are released by the library; exit anyway so nothing a dependency left behind can
// keep a CI step waiting.
process.exit(exitCode);
