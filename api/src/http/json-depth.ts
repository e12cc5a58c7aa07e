/**
 * Whether a parsed JSON value nests arrays/objects deeper than `maxDepth` (`{}` and `[]` count 1).
 * Iterative on purpose: a hostile body 50,000 levels deep must not overflow the stack here, and after this
 * check the value is safe to re-serialise (JSON.stringify recurses).
 */
export function jsonDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > maxDepth) return true;
    for (const child of Object.values(next.value)) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth });
    }
  }
  return false;
}
