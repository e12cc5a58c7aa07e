// A Vitest reporter that `npm test` adds: it writes each skipped test with the reason the test gave
// (`skip(note)`) to .vitest-skipped.json in the workspace, so the run's summary can say what was
// skipped and why instead of only counting it.
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export const SKIPPED_FILE = '.vitest-skipped.json';

export default class SkipReporter {
  onTestRunEnd(testModules) {
    const root = join(process.cwd(), '..');
    const skipped = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'skipped') skipped.push({ test: `${relative(root, module.moduleId)} > ${test.fullName}`, reason: result.note ?? null });
      }
    }
    writeFileSync(join(process.cwd(), SKIPPED_FILE), JSON.stringify(skipped, null, 2));
  }
}
