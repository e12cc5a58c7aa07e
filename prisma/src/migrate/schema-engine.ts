import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaContainer, SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { MigrationError } from './errors.ts';
import { createMigrationAdapterFactory } from './pg-adapter-fix.ts';

export type { SchemaEngine };

/** Options of {@link withSchemaEngine}. */
export interface SchemaEngineOptions {
  /** Database the engine works on; with a shadow database, where it creates one (needs CREATEDB). */
  databaseUrl: string;
  /** The Prisma schema files, as the engine's datamodels. */
  schemaFiles: SchemaContainer[];
  /**
   * Receives the engine's log lines (JSON).
   * @defaultValue ignores them
   */
  log?: (line: string) => void;
}

/** The slice of the WebAssembly global used here (this package's `lib` has no DOM/WebAssembly types). */
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: Record<string, Record<string, unknown>>): Promise<WasmInstance>;
  Module: { imports(module: WasmModule): { module: string; name: string; kind: string }[] };
}
type WasmModule = { readonly __brand: 'WebAssembly.Module' };
type WasmInstance = { exports: Record<string, unknown> };
const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/**
 * The glue module holds one WebAssembly instance per process, so the instance is cached on globalThis:
 * a test runner that re-evaluates this file per test file then reuses it instead of swapping it.
 */
const ENGINE_CACHE = Symbol.for('@cic/db/schema-engine-wasm');
type EngineCache = { [ENGINE_CACHE]?: Promise<typeof bindings.SchemaEngine> };

/**
 * Instantiates Prisma's schema engine WebAssembly module once per process. It is the same engine as the
 * native binary Prisma's CLI would download, compiled for a driver adapter instead of its own drivers.
 */
function loadSchemaEngine(): Promise<typeof bindings.SchemaEngine> {
  const cache = globalThis as EngineCache;
  cache[ENGINE_CACHE] ??= instantiate().catch((error: unknown) => {
    delete cache[ENGINE_CACHE];
    throw error;
  });
  return cache[ENGINE_CACHE];
}

async function instantiate(): Promise<typeof bindings.SchemaEngine> {
  // The package's main entry imports the .wasm as an ES module, which Node 20 cannot; the `_bg` module
  // holds the same glue and lets us instantiate the .wasm ourselves.
  const require = createRequire(import.meta.url);
  const glue = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const module = await wasmApi.compile(await readFile(join(dirname(glue), 'schema_engine_bg.wasm')));
  const imports: Record<string, unknown> = { ...bindings };
  for (const { name } of wasmApi.Module.imports(module)) {
    // The engine arms a 10 s timer (its advisory-lock timeout) and never clears it: left as is it keeps
    // the process alive for 10 s after the work is done. Unref'd, it still fires while anything else
    // (such as the lock query itself) keeps the event loop running.
    if (name.startsWith('__wbg_setTimeout_')) imports[name] = unrefSetTimeout;
  }
  const instance = await wasmApi.instantiate(module, { './schema_engine_bg.js': imports });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bindings.SchemaEngine;
}

function unrefSetTimeout(callback: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(callback, ms >>> 0).unref();
}

/**
 * Runs `work` with a schema engine connected through adapter-pg, then frees the engine and closes every
 * pool it opened (including shadow databases), whether `work` succeeded or not. Engine failures are
 * rethrown as {@link MigrationError}s carrying Prisma's error code (P3009 …) when there is one.
 */
export async function withSchemaEngine<T>(
  options: SchemaEngineOptions,
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const SchemaEngineClass = await loadSchemaEngine();
  const adapterFactory = createMigrationAdapterFactory(options.databaseUrl);
  const log = options.log ?? (() => {});
  let engine: SchemaEngine | undefined;
  try {
    engine = await SchemaEngineClass.new(
      { datamodels: options.schemaFiles.map((file): [string, string] => [file.path, file.content]) },
      (line: string) => log(line),
      bindMigrationAwareSqlAdapterFactory(adapterFactory),
    );
    return await work(engine);
  } catch (error) {
    throw MigrationError.from(error);
  } finally {
    engine?.free();
    await adapterFactory.disposeAll();
  }
}
