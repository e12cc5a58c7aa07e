// Every variable a service accepts is documented (README.md or docs/*.md), so config never drifts
// from what a newcomer can read.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobsEnvSchema } from '@cic/jobs/config';
import { webEnvSchema } from '@cic/web/env-schema';
import { apiEnvSchema } from '@cic/api/config';
import { cliEnvSchema } from '@cic/api/cli/env';

const root = resolve(import.meta.dirname, '../..');
const docs = [
  readFileSync(resolve(root, 'README.md'), 'utf8'),
  ...readdirSync(resolve(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => readFileSync(resolve(root, 'docs', f), 'utf8')),
].join('\n');

describe('documentation', () => {
  it.each([
    ['api', Object.keys(apiEnvSchema.shape)],
    ['jobs', Object.keys(jobsEnvSchema.shape)],
    ['web', Object.keys(webEnvSchema.shape)],
    ['admin CLI (cic)', Object.keys(cliEnvSchema.shape)],
  ])('documents every %s variable', (_service, names) => {
    const missing = names.filter((name) => !docs.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
