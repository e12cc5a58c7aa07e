// Writes the API's persisted-operations manifest from the dashboard's sources:
//   npm run persisted-operations            (from the repository root)
// web/test/unit/operations.test.ts fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { dashboardOperations, MANIFEST, persistedManifest } from './dashboard-operations.ts';

const operations = dashboardOperations();
writeFileSync(MANIFEST, persistedManifest(operations));
console.log(`wrote ${operations.length} operations to ${MANIFEST}`);
