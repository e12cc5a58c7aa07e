// The workspace boundaries of docs/architecture.md hold by lint (run by `npm test`): these cases prove
// the rule fires on the imports it exists for, and that the tree as it is has none of them.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, filePath) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('workspace boundaries', () => {
  it.each([
    ['core/src/nodes/bad.ts', "import { loadApiConfig } from '@cic/api/config';", 'never import an application'],
    ['core/src/nodes/bad.ts', "import { createServer } from 'node:http';", 'transport-free'],
    ['core/src/nodes/bad.ts', "import { GraphQLError } from 'graphql';", 'transport-free'],
    ['core/src/nodes/bad.ts', "import { Router } from '../../../api/src/http/router.ts';", 'not a path into its sources'],
    ['jobs/src/handlers/bad.ts', "import { buildApi } from '../../../api/src/app.ts';", 'not a path into its sources'],
    ['web/src/lib/server/bad.ts', "import { ledger } from '../../../../core/src/billing/ledger.ts';", 'not a path into its sources'],
    ['simulator/src/bad.ts', "import { AppError } from '@cic/core/errors';", 'knows nothing of CIC'],
  ])('%s: %s is refused', async (file, code, why) => {
    const messages = await restrictedImports(file, `${code}\nexport {};\n`);
    expect(messages).toContainEqual(expect.stringContaining(why));
  });

  it.each([
    ['jobs/src/handlers/ok.ts', "import { enqueue } from '@cic/core/jobs/enqueue-job';"],
    ['core/src/nodes/ok.ts', "import { AppError } from '../errors.ts';"],
    ['jobs/test/ok.test.ts', "import { createGraphQLWorld } from '../../api/test/graphql/graphql-fixture.ts';"],
  ])('%s: %s is allowed', async (file, code) => {
    expect(await restrictedImports(file, `${code}\nexport {};\n`)).toEqual([]);
  });

  it('no workspace but api imports @cic/api internals, and the api exports only its config', () => {
    // '[a]pi' so that this line does not match itself; git grep exits 1 when nothing matches.
    const grep = spawnSync('git', ['grep', '-l', '-E', "from '@cic/[a]pi/[^c]", '--', ':!api/'], { cwd: root, encoding: 'utf8' });
    expect(grep.status).toBeLessThanOrEqual(1);
    const hits = grep.stdout.trim().split('\n').filter(Boolean).filter((f) => !f.endsWith('.md'));
    expect(hits).toEqual([]);
  });
});
