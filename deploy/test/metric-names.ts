import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { DEPLOY_DIR } from './renderings.ts';

export interface Rule { record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
export const RULES_FILE = `${DEPLOY_DIR}prometheus/rules.yaml`;

export function loadRules(): Rule[] {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

/** Every PromQL expression of the Grafana dashboards, by dashboard file. */
export function dashboardExpressions(): { file: string; title: string; expr: string }[] {
  const dir = `${DEPLOY_DIR}grafana`;
  return readdirSync(dir).filter((f) => f.endsWith('.json')).flatMap((file) => {
    const d = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    return d.panels.flatMap((p) => p.targets.map((t) => ({ file, title: p.title, expr: t.expr })));
  });
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The series names a PromQL expression reads: label matchers, grouping clauses, strings, durations
 * and function calls are removed first, so what is left are metric or recording-rule names.
 */
export function seriesNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\(?))/g)) {
    const word = m[0];
    const isCall = stripped.slice((m.index ?? 0) + word.length).trimStart().startsWith('(');
    if (!isCall && !PROMQL_WORDS.has(word.toLowerCase())) names.add(word);
  }
  return [...names];
}

/** Metric families (as exported) behind a series name: histogram series map to their family. */
export const familyOf = (name: string, families: Set<string>): string | undefined => {
  if (families.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && families.has(base) ? base : undefined;
};

/** The exported metrics the rules and dashboards rely on (recording-rule outputs and Prometheus's own `up` excluded). */
export function metricsUsed(): string[] {
  const rules = loadRules();
  const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
  const exprs = [...rules.map((r) => r.expr), ...dashboardExpressions().map((d) => d.expr)];
  return [...new Set(exprs.flatMap(seriesNames))].filter((n) => !recorded.has(n) && n !== 'up').sort();
}
