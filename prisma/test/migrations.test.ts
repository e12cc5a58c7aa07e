import { createHash, randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createMigration,
  defaultMigrationsDir,
  defaultSchemaPath,
  deployMigrations,
  diffSchemaAgainstMigrations,
  MIGRATION_LOCK_CONTENT,
  MigrationError,
} from '../src/migrate/index.ts';

// The run's Postgres server (scripts/test-global-setup.ts); each test makes and drops its own database.
const adminUrl = inject('testDatabaseAdminUrl');

/** Same server as the admin URL, another database. */
function databaseUrl(database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>, url = adminUrl): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const createdDatabases: string[] = [];

/** A fresh, empty database for one test; dropped after it. */
async function createTestDatabase(): Promise<string> {
  const name = `migrate_test_${randomUUID().replaceAll('-', '')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  createdDatabases.push(name);
  return databaseUrl(name);
}

afterEach(async () => {
  const names = createdDatabases.splice(0);
  await withAdmin(async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
});

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cic-migrations-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function committedMigrations(): Promise<{ name: string; checksum: string }[]> {
  const entries = await readdir(defaultMigrationsDir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  names.sort((a, b) => a.localeCompare(b));
  return Promise.all(
    names.map(async (name) => ({
      name,
      checksum: createHash('sha256')
        .update(await readFile(join(defaultMigrationsDir, name, 'migration.sql')))
        .digest('hex'),
    })),
  );
}

/** Every table schema.prisma maps a model to. */
async function schemaTables(): Promise<string[]> {
  const schema = await readFile(defaultSchemaPath, 'utf8');
  return [...schema.matchAll(/@@map\("([^"]+)"\)/g)].map((match) => match[1] as string).sort();
}

/** A copy of schema.prisma with one more model, in its own folder. */
async function schemaWithExtraModel(): Promise<string> {
  const dir = await mkdtemp(join(tmp, 'schema-'));
  const schemaPath = join(dir, 'schema.prisma');
  const schema = await readFile(defaultSchemaPath, 'utf8');
  await writeFile(
    schemaPath,
    `${schema}\nmodel ExtraWidget {\n  id   String @id\n  name String\n\n  @@map("extra_widgets")\n}\n`,
  );
  return schemaPath;
}

/** A scratch copy of the committed migrations folder that a test may add to. */
async function copyOfMigrations(): Promise<string> {
  const dir = join(await mkdtemp(join(tmp, 'migrations-')), 'migrations');
  await cp(defaultMigrationsDir, dir, { recursive: true });
  return dir;
}

describe('committed migrations', () => {
  it('has Prisma migration_lock.toml for postgresql', async () => {
    expect(await readFile(join(defaultMigrationsDir, 'migration_lock.toml'), 'utf8')).toBe(MIGRATION_LOCK_CONTENT);
  });

  it('matches schema.prisma', async () => {
    const diff = await diffSchemaAgainstMigrations({ databaseUrl: await createTestDatabase() });
    expect(diff.inSync, diff.script).toBe(true);
  });
});

describe('deployMigrations', () => {
  it('applies every migration to a fresh database and records them as Prisma does', async () => {
    const url = await createTestDatabase();
    const migrations = await committedMigrations();
    expect(migrations.length).toBeGreaterThan(0);

    const result = await deployMigrations({ databaseUrl: url });
    expect(result.applied).toEqual(migrations.map((migration) => migration.name));
    expect(result.createdDatabase).toBe(false);

    await withAdmin(async (client) => {
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'",
      );
      expect(tables.rows.map((row) => row.table_name).sort()).toEqual(await schemaTables());

      const records = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
        'SELECT migration_name, checksum, finished_at FROM _prisma_migrations WHERE rolled_back_at IS NULL ORDER BY migration_name',
      );
      expect(records.rows.map(({ migration_name, checksum }) => ({ name: migration_name, checksum }))).toEqual(
        migrations,
      );
      for (const record of records.rows) expect(record.finished_at).toBeInstanceOf(Date);
    }, url);
  });

  it('applies nothing the second time', async () => {
    const url = await createTestDatabase();
    await deployMigrations({ databaseUrl: url });
    const again = await deployMigrations({ databaseUrl: url });
    expect(again.applied).toEqual([]);
    expect(again.modifiedAfterApply).toEqual([]);
    const count = await withAdmin((client) => client.query('SELECT count(*)::int AS n FROM _prisma_migrations'), url);
    expect(count.rows[0].n).toBe((await committedMigrations()).length);
  });

  it('leaves no connection open once done', async () => {
    const url = await createTestDatabase();
    await deployMigrations({ databaseUrl: url });
    const database = new URL(url).pathname.slice(1);
    const openConnections = () =>
      withAdmin(async (client) => {
        const result = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [
          database,
        ]);
        return result.rows[0].n as number;
      });
    // A closed connection's backend may take a moment to leave pg_stat_activity.
    await expect.poll(openConnections, { timeout: 2_000 }).toBe(0);
  });

  it('creates the database when it does not exist yet', async () => {
    const name = `migrate_test_${randomUUID().replaceAll('-', '')}`;
    createdDatabases.push(name);
    const result = await deployMigrations({ databaseUrl: databaseUrl(name) });
    expect(result.createdDatabase).toBe(true);
    expect(result.applied.length).toBe((await committedMigrations()).length);
  });

  it('runs a migration script whole: semicolons inside a function body are fine', async () => {
    const url = await createTestDatabase();
    const migrationsDir = await copyOfMigrations();
    await mkdir(join(migrationsDir, '99990101000000_function'));
    await writeFile(
      join(migrationsDir, '99990101000000_function', 'migration.sql'),
      "CREATE FUNCTION cic_answer() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  PERFORM 1;\n  RETURN 42;\nEND;\n$$;\nCOMMENT ON FUNCTION cic_answer() IS 'one; two';\n",
    );
    const result = await deployMigrations({ databaseUrl: url, migrationsDir });
    expect(result.applied.at(-1)).toBe('99990101000000_function');
    const answer = await withAdmin((client) => client.query('SELECT cic_answer() AS n'), url);
    expect(answer.rows[0].n).toBe(42);
  });

  it('records a failed migration, rolls its statements back, and refuses the next deploy with P3009', async () => {
    const url = await createTestDatabase();
    const migrationsDir = await copyOfMigrations();
    await mkdir(join(migrationsDir, '99990101000000_broken'));
    await writeFile(
      join(migrationsDir, '99990101000000_broken', 'migration.sql'),
      'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n',
    );

    const failure = await deployMigrations({ databaseUrl: url, migrationsDir }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).migrationName).toBe('99990101000000_broken');

    const state = await withAdmin(async (client) => {
      const record = await client.query(
        "SELECT finished_at, logs FROM _prisma_migrations WHERE migration_name = '99990101000000_broken'",
      );
      const halfDone = await client.query("SELECT to_regclass('public.half_done') AS t");
      return { record: record.rows[0], halfDone: halfDone.rows[0].t };
    }, url);
    expect(state.record.finished_at).toBeNull();
    expect(state.record.logs).toContain('no_such_table');
    expect(state.halfDone).toBeNull();

    const refused = await deployMigrations({ databaseUrl: url, migrationsDir }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MigrationError);
    expect((refused as MigrationError).code).toBe('P3009');
  });
});

describe('diffSchemaAgainstMigrations', () => {
  it('reports a schema with an extra model as not in sync, with the SQL to get there', async () => {
    const diff = await diffSchemaAgainstMigrations({
      databaseUrl: await createTestDatabase(),
      schemaPath: await schemaWithExtraModel(),
    });
    expect(diff.inSync).toBe(false);
    expect(diff.script).toContain('CREATE TABLE "extra_widgets"');
  });
});

describe('createMigration', () => {
  it("writes Prisma's layout for a change, then has nothing left to write", async () => {
    const url = await createTestDatabase();
    const migrationsDir = await copyOfMigrations();
    const schemaPath = await schemaWithExtraModel();
    await rm(join(migrationsDir, 'migration_lock.toml'));

    const created = await createMigration({
      databaseUrl: url,
      migrationsDir,
      schemaPath,
      name: 'addExtra widgets',
      now: new Date('2099-01-02T03:04:05Z'),
    });
    expect(created?.name).toBe('20990102030405_add_extra_widgets');
    expect(created?.path).toBe(join(migrationsDir, '20990102030405_add_extra_widgets', 'migration.sql'));
    expect(await readFile(created?.path as string, 'utf8')).toContain('CREATE TABLE "extra_widgets"');
    expect(await readFile(join(migrationsDir, 'migration_lock.toml'), 'utf8')).toBe(MIGRATION_LOCK_CONTENT);

    expect((await diffSchemaAgainstMigrations({ databaseUrl: url, migrationsDir, schemaPath })).inSync).toBe(true);
    expect(await createMigration({ databaseUrl: url, migrationsDir, schemaPath, name: 'again' })).toBeNull();

    const deployed = await deployMigrations({ databaseUrl: url, migrationsDir, schemaPath });
    expect(deployed.applied.at(-1)).toBe('20990102030405_add_extra_widgets');
  });

  it('rejects a name with nothing usable in it', async () => {
    await expect(createMigration({ databaseUrl: adminUrl, name: '---' })).rejects.toThrow(MigrationError);
  });
});
