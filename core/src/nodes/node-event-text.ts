import { homedir, tmpdir } from 'node:os';

/**
 * Top-level directories of a server's file system. A word starting with one of them (or with `~/`,
 * `file://`, this process's temp or home directory) is a path on the worker or the node, never an
 * HTTP path such as `/health` or `/v1/models`, which the events also name.
 */
const ROOTS = ['tmp', 'var', 'home', 'root', 'usr', 'opt', 'etc', 'srv', 'work', 'workspace', 'mnt', 'media', 'private', 'Users', 'app', 'run', 'proc', 'nix', 'snap', 'lib', 'bin', 'sbin', 'dev', 'data'];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const extraRoots = [tmpdir(), homedir()].filter((dir) => dir.length > 1).map((dir) => escape(dir.replace(/\/+$/, '')));
/** Not after a word, dot, colon or slash: `http://host/tmp/x` and `a/tmp/b` are not server paths. */
const SERVER_PATH = new RegExp(
  `(?<![\\w.:/~-])(?:file://)?(?:~|${[...extraRoots, ...ROOTS.map((r) => `/${r}`)].join('|')})(?=/|$|[\\s'"\`),;:])[^\\s'"\`()<>\\[\\]{},;|]*`,
  'g',
);

/** The last segment of a path (`/tmp/cic-sky-x/c.yaml` → `c.yaml`, `/work/a/b.ts:10:5` → `b.ts:10:5`). */
const lastSegment = (path: string) => path.replace(/\/+$/, '').split('/').pop() || '…';

/**
 * A node event's text without the server's file paths: each becomes its last segment. Node events are
 * shown to every platform admin in the dashboard, and where files live on the worker (its checkout,
 * temp dirs, home) is none of theirs; CLI output and stack traces name such paths freely.
 */
export function withoutServerPaths(text: string): string {
  return text.replace(SERVER_PATH, lastSegment);
}
