/** Every bucket start from `from` to now, so charts show the whole range (empty hours included). */
export function bucketStarts(from: string, granularity: 'HOUR' | 'DAY', now = new Date()): string[] {
  const step = granularity === 'DAY' ? 86_400_000 : 3_600_000;
  const start = Math.floor(new Date(from).getTime() / step) * step;
  const out: string[] = [];
  for (let t = start; t <= now.getTime(); t += step) out.push(new Date(t).toISOString());
  return out;
}
