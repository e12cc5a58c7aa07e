import type { ProviderCluster } from '../types.ts';

/**
 * Parses the clusters table of `sky status` (NAME … STATUS … columns, aligned under their headers).
 * Only the "Clusters" section is read; managed jobs/services tables that follow are ignored.
 */
export function parseSkyStatus(output: string): ProviderCluster[] {
  const lines = output.split('\n');
  const header = lines.findIndex((l) => /^NAME\s+/.test(l) && /\sSTATUS\s/.test(`${l} `));
  if (header < 0) return [];
  const statusAt = lines[header]!.search(/\sSTATUS(\s|$)/) + 1;
  const clusters: ProviderCluster[] = [];
  for (const line of lines.slice(header + 1)) {
    if (!line.trim() || /^[A-Z][a-z]/.test(line)) break; // blank line or the next section's title
    const name = line.split(/\s+/)[0]!;
    const status = line.slice(statusAt).trim().split(/\s+/)[0] ?? '';
    clusters.push({ name, status });
  }
  return clusters;
}
