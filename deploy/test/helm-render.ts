import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { asK8sObject, isRecord, type K8sObject } from './k8s-object.ts';

/**
 * Renders deploy/helm/cic without Helm (not installable here). It implements exactly the Go template
 * subset the chart uses, and throws on anything else so the chart cannot drift beyond it:
 * `{{ .Values.a.b }}`, `.Release.Name|Namespace|Service`, `.Chart.Name|Version|AppVersion`, `{{- ... -}}`
 * whitespace trimming, `{{/* comments *\/}}`, `define` / `include "name" .`, `if` / `else` / `end`
 * (Go truthiness), and the functions `toYaml`, `quote`, `default`, `nindent`, `indent` in pipelines.
 * A missing value throws (Helm would print "<no value>"), which is stricter than Helm.
 */
export interface HelmRelease {
  name: string;
  namespace: string;
}

type Node = { text: string } | { action: string } | { if: string; then: Node[]; else: Node[] };
interface Scope { values: Record<string, unknown>; release: HelmRelease; chart: Record<string, unknown>; defines: Map<string, Node[]> }

const ACTION = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;

/** Splits a template into text and actions, applying `{{-` and `-}}` trimming as Go does. */
function tokenize(src: string): { text?: string; action?: string }[] {
  const out: { text?: string; action?: string }[] = [];
  let last = 0;
  let trimNext = false;
  for (const m of src.matchAll(ACTION)) {
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1]) text = text.replace(/\s+$/, '');
    out.push({ text });
    const body = (m[2] ?? '').trim();
    if (!body.startsWith('/*')) out.push({ action: body });
    else if (!body.endsWith('*/')) throw new Error(`unterminated comment: ${body}`);
    trimNext = Boolean(m[3]);
    last = m.index + m[0].length;
  }
  let tail = src.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  out.push({ text: tail });
  return out;
}

/** Builds the tree; `define` bodies go to `defines` instead of the output. */
function parseTemplate(src: string, defines: Map<string, Node[]>): Node[] {
  const tokens = tokenize(src);
  let i = 0;
  const block = (closers: string[]): { nodes: Node[]; closer: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t.text !== undefined) { if (t.text) nodes.push({ text: t.text }); continue; }
      const action = t.action!;
      if (closers.includes(action)) return { nodes, closer: action };
      const define = /^define "([^"]+)"$/.exec(action);
      if (define) { defines.set(define[1]!, block(['end']).nodes); continue; }
      if (action.startsWith('if ')) {
        const then = block(['else', 'end']);
        const otherwise = then.closer === 'else' ? block(['end']).nodes : [];
        nodes.push({ if: action.slice(3).trim(), then: then.nodes, else: otherwise });
        continue;
      }
      if (/^(range|with|else if|template|block)\b/.test(action)) throw new Error(`unsupported template action: ${action}`);
      nodes.push({ action });
    }
    if (closers.length) throw new Error(`missing {{ ${closers.join(' / ')} }}`);
    return { nodes, closer: '' };
  };
  return block([]).nodes;
}

function lookup(path: string, scope: Scope): unknown {
  const [root, ...rest] = path.slice(1).split('.');
  const roots: Record<string, unknown> = { Values: scope.values, Chart: scope.chart, Release: { Name: scope.release.name, Namespace: scope.release.namespace, Service: 'Helm' } };
  let v: unknown = roots[root ?? ''];
  for (const key of rest) v = isRecord(v) ? v[key] : undefined;
  if (v === undefined) throw new Error(`${path} is not set`);
  return v;
}

const truthy = (v: unknown): boolean => !(v === false || v === 0 || v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0));

function print(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`cannot print ${JSON.stringify(v)} without toYaml`);
}

const indentLines = (n: number, s: string): string => s.split('\n').map((l) => ' '.repeat(n) + l).join('\n');

const FUNCTIONS: Record<string, (scope: Scope, args: unknown[]) => unknown> = {
  include: (scope, [name]) => {
    const body = scope.defines.get(String(name));
    if (!body) throw new Error(`include: no template named ${String(name)}`);
    return renderNodes(body, scope);
  },
  // Helm's toYaml drops the trailing newline.
  toYaml: (_s, [v]) => stringify(v, { lineWidth: 0 }).replace(/\n$/, ''),
  quote: (_s, [v]) => JSON.stringify(print(v)),
  default: (_s, [fallback, v]) => (truthy(v) ? v : fallback),
  nindent: (_s, [n, v]) => `\n${indentLines(Number(n), print(v))}`,
  indent: (_s, [n, v]) => indentLines(Number(n), print(v)),
};

function evalArg(token: string, scope: Scope): unknown {
  if (token === '.') return '.';
  if (token.startsWith('.')) return lookup(token, scope);
  if (/^"([^"\\]|\\.)*"$/.test(token)) return JSON.parse(token) as string;
  if (/^-?\d+$/.test(token)) return Number(token);
  throw new Error(`unsupported argument: ${token}`);
}

function evalPipeline(pipeline: string, scope: Scope): unknown {
  let piped: unknown[] = [];
  for (const command of pipeline.split('|').map((c) => c.trim())) {
    const tokens = command.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
    const [head, ...args] = tokens;
    if (!head) throw new Error(`empty command in ${pipeline}`);
    const fn = FUNCTIONS[head];
    if (fn) piped = [fn(scope, [...args.map((a) => evalArg(a, scope)), ...piped])];
    else if (args.length === 0 && piped.length === 0) piped = [evalArg(head, scope)];
    else throw new Error(`unsupported function: ${head}`);
  }
  return piped[0];
}

function renderNodes(nodes: Node[], scope: Scope): string {
  let out = '';
  for (const n of nodes) {
    if ('text' in n) out += n.text;
    else if ('action' in n) out += print(evalPipeline(n.action, scope));
    else out += renderNodes(truthy(evalPipeline(n.if, scope)) ? n.then : n.else, scope);
  }
  return out;
}

/** Helm's value merge: maps merge key by key, anything else replaces. */
const mergeValues = (base: unknown, override: unknown): unknown =>
  isRecord(base) && isRecord(override)
    ? Object.fromEntries([...new Set([...Object.keys(base), ...Object.keys(override)])].map((k) => [k, k in override ? mergeValues(base[k], override[k]) : base[k]]))
    : override;

/** Renders every template of the chart with its values.yaml (deep-merged with `overrides`, like `--set`) into objects. */
export function renderChart(chartDir: string, release: HelmRelease, overrides: Record<string, unknown> = {}): K8sObject[] {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const values = mergeValues(parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')), overrides) as Record<string, unknown>;
  const scope: Scope = {
    values,
    release,
    chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    defines: new Map(),
  };
  const dir = join(chartDir, 'templates');
  const files = readdirSync(dir).sort();
  for (const f of files.filter((f) => f.startsWith('_'))) parseTemplate(readFileSync(join(dir, f), 'utf8'), scope.defines);
  const objects: K8sObject[] = [];
  for (const f of files.filter((f) => f.endsWith('.yaml') && !f.startsWith('_'))) {
    const rendered = renderNodes(parseTemplate(readFileSync(join(dir, f), 'utf8'), scope.defines), scope);
    for (const doc of parseAllDocuments(rendered)) {
      if (doc.errors.length) throw new Error(`${f}: rendered YAML is invalid: ${doc.errors[0]?.message}\n${rendered}`);
      const js = doc.toJS() as unknown;
      if (js !== null) objects.push(asK8sObject(js, f));
    }
  }
  return objects;
}
