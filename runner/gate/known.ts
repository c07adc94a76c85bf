/**
 * Known-failure files (`--known FILE`): parsing and checking. Pure apart from
 * {@link loadKnownFile}, which reads the file.
 *
 * Accepted format: YAML (so JSON too), a list of entries:
 *
 *     - test: rust_kunit_fixture.rust_fixture_fail   # glob over the test path (runner/gate/glob.ts)
 *       status: failed       # failed | crashed | timeout | flaky | any (default: any)
 *       arch: [x86_64]       # optional: a name or a list; only on these architectures
 *       reason: fails on purpose in the fixture
 *       bug: https://bugs.example.org/1234
 *       until: 2027-06-30    # optional: the entry applies through this day (UTC), then it is expired
 *
 * An empty file is an empty list. Every problem is a {@link KnownFileError}
 * with the 1-based line of the offending node: `FILE:LINE: what is wrong`.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { BridgeError, readInputText } from '../errors.js';
import { normalizeArch, type Arch } from '../qemu/profiles.js';
import { compileGlob, GlobError } from './glob.js';

/** What a known entry says its test does. */
export type KnownStatus = 'failed' | 'crashed' | 'timeout' | 'flaky' | 'any';
export const KNOWN_STATUSES: readonly KnownStatus[] = ['failed', 'crashed', 'timeout', 'flaky', 'any'];

/** One entry of a known-failure file. */
export interface KnownEntry {
  /** The glob as written. */
  test: string;
  /** Compiled {@link test}. */
  pattern: RegExp;
  status: KnownStatus;
  /** Only on these architectures; undefined: on every one. */
  arch?: Arch[];
  reason?: string;
  bug?: string;
  /** `YYYY-MM-DD`: applies through this day (UTC). */
  until?: string;
  /** Where it is: `FILE:LINE`. */
  where: string;
  line: number;
}

const KEYS = ['test', 'status', 'arch', 'reason', 'bug', 'until'] as const;

/** A bad known file: exit 2, the message is `FILE:LINE: what is wrong`. */
export function knownFileError(file: string, line: number, what: string): BridgeError {
  return new BridgeError('E_KNOWN_FILE', `${file}:${line}: ${what}`);
}

/** Is `text` a real calendar date written `YYYY-MM-DD`? */
export function isIsoDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** Has an entry valid through `until` (UTC day) expired at `now`? */
export function isExpired(until: string | undefined, now: Date): boolean {
  if (until === undefined) return false;
  return now.toISOString().slice(0, 10) > until;
}

/** Parse the text of a known file; throws {@link knownFileError}. */
export function parseKnownFile(text: string, file: string): KnownEntry[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (node: { range?: readonly number[] | null } | null | undefined): number =>
    node?.range ? lines.linePos(node.range[0]!).line : 1;
  const first = doc.errors[0];
  if (first) {
    const line = lines.linePos(first.pos[0]).line;
    throw knownFileError(file, line, `not valid YAML: ${first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return [];
  if (!isSeq(root)) throw knownFileError(file, lineOf(root), 'a known file is a list of entries (each starting with `- test: GLOB`)');
  const out: KnownEntry[] = [];
  for (const item of root.items) {
    const node = item as Node;
    if (!isMap(node)) throw knownFileError(file, lineOf(node), 'an entry must be a mapping with at least `test: GLOB`');
    out.push(entry(node.items as Pair<Node, Node>[], lineOf(node), file, lineOf));
  }
  return out;
}

function entry(pairs: Pair<Node, Node>[], line: number, file: string, lineOf: (n: Node | null | undefined) => number): KnownEntry {
  const fields = new Map<string, { value: unknown; line: number; node: Node | null }>();
  for (const p of pairs) {
    const key = isScalar(p.key) ? String(p.key.value) : '';
    const at = lineOf(p.key);
    if (!(KEYS as readonly string[]).includes(key)) {
      throw knownFileError(file, at, `unknown key "${key}" (an entry has ${KEYS.join(', ')})`);
    }
    fields.set(key, { value: p.value === null ? null : (p.value as Node).toJSON(), line: lineOf(p.value) || at, node: p.value });
  }
  const str = (key: string): string | undefined => {
    const f = fields.get(key);
    if (f === undefined) return undefined;
    if (typeof f.value !== 'string' || f.value.trim() === '') throw knownFileError(file, f.line, `${key} must be a non-empty string`);
    return f.value;
  };
  const test = fields.has('test') ? str('test')! : undefined;
  if (test === undefined) throw knownFileError(file, line, 'the entry has no `test: GLOB`');
  let pattern: RegExp;
  try {
    pattern = compileGlob(test);
  } catch (err) {
    if (err instanceof GlobError)
      throw knownFileError(file, fields.get('test')!.line, `bad glob "${test}": ${err.message} (column ${err.column})`);
    throw err;
  }
  const status = (str('status') ?? 'any') as KnownStatus;
  if (!KNOWN_STATUSES.includes(status)) {
    throw knownFileError(file, fields.get('status')!.line, `status "${status}" is not one of ${KNOWN_STATUSES.join(', ')}`);
  }
  const e: KnownEntry = { test, pattern, status, where: `${file}:${line}`, line };
  const arch = fields.get('arch');
  if (arch) {
    const names = typeof arch.value === 'string' ? [arch.value] : arch.value;
    if (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string')) {
      throw knownFileError(file, arch.line, 'arch must be an architecture or a list of them (x86_64, arm64, riscv64)');
    }
    e.arch = (names as string[]).map((n) => {
      const a = normalizeArch(n);
      if (!a) throw knownFileError(file, arch.line, `unknown arch "${n}" (use x86_64, arm64 or riscv64)`);
      return a;
    });
  }
  const reason = str('reason');
  if (reason !== undefined) e.reason = reason;
  const bug = str('bug');
  if (bug !== undefined) e.bug = bug;
  const until = fields.get('until');
  if (until) {
    const v = until.value;
    if (typeof v !== 'string' || !isIsoDate(v)) {
      throw knownFileError(file, until.line, `until must be a date written YYYY-MM-DD, not "${String(v)}"`);
    }
    e.until = v;
  }
  return e;
}

/** Read and parse a known file; a missing file is an input error (exit 2). */
export function loadKnownFile(path: string): KnownEntry[] {
  return parseKnownFile(readInputText(path, 'the known-failure file'), path);
}
