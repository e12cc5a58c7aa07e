/** One CSV cell: quoted when it could break the row; spreadsheet formulas (=, +, -, @) defused. */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const csvRows = (rows: unknown[][]): string => `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
