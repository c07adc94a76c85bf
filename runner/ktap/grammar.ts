/**
 * Stage 3 of 4: the KTAP line classifier. Pure, no I/O, no state.
 *
 * Accepted format (Documentation/dev-tools/ktap.rst, plus TAP 13/14 as
 * printed by older kernels and kselftest), after the printk prefix is gone:
 *
 *     KTAP version 1                  version line (also `TAP version 13|14`)
 *     1..4                            plan
 *     ok 1 name                       result (also `ok 1 - name`, `not ok 2 name`; the number is required)
 *     ok 3 name # SKIP reason         result with directive (SKIP TODO XFAIL TIMEOUT ERROR)
 *     # Subtest: name                 subtest header
 *     # anything else                 diagnostic
 *
 * each indented by any whitespace (spaces count 1, a tab 4), which gives the
 * nesting. Anything else is "other": kernel messages, assertion text.
 */
import type { Directive, Location } from './model.js';
import { isSpace } from './console-filter.js';

export type KtapLine =
  | { kind: 'version'; indent: number; format: 'KTAP' | 'TAP'; version: number }
  | { kind: 'plan'; indent: number; count: number }
  | {
      kind: 'result';
      indent: number;
      ok: boolean;
      number?: number;
      name: string;
      directive?: Directive;
      reason?: string;
    }
  | { kind: 'subtest'; indent: number; name: string }
  | { kind: 'diag'; indent: number; text: string }
  | { kind: 'other'; indent: number };

const VERSION = /^(K?TAP) version (\d+)\s*$/;
const PLAN = /^1\.\.(\d+)\s*(?:#.*)?$/;
const DIRECTIVE = /^(SKIP|TODO|XFAIL|TIMEOUT|ERROR)\w*(?:[\s:]+(.*))?$/i;

/** Unescape TAP's `\#` and `\\`. */
function unescapeTap(text: string): string {
  return text.indexOf('\\') === -1 ? text : text.replace(/\\([\\#])/g, '$1');
}

/** Split `name # DIRECTIVE reason` at the first unescaped ` #`. */
function splitDescription(rest: string): { name: string; directive?: Directive; reason?: string } {
  let hash = -1;
  for (let i = rest.indexOf('#'); i !== -1; i = rest.indexOf('#', i + 1)) {
    if (i > 0 && rest.charCodeAt(i - 1) === 0x5c /* \ */) continue;
    if (i === 0 || rest.charCodeAt(i - 1) === 0x20 || rest.charCodeAt(i - 1) === 0x09) {
      hash = i;
      break;
    }
  }
  if (hash === -1) return { name: unescapeTap(rest.trimEnd()) };
  const name = unescapeTap(rest.slice(0, hash).trimEnd());
  const comment = rest.slice(hash + 1).trim();
  const m = DIRECTIVE.exec(comment);
  if (m === null) return { name };
  const directive = m[1]!.toUpperCase() as Directive;
  const reason = m[2]?.trim();
  return reason ? { name, directive, reason: unescapeTap(reason) } : { name, directive };
}

const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/** Does `text` hold a character that regex `.` does not match? */
export function hasLineTerminator(text: string): boolean {
  return LINE_TERMINATOR.test(text);
}

/** `(?:\s+(.*))?$` at `pos`: where the captured text starts, {@link NONE} or {@link FAIL}. */
function tail(line: string, pos: number): number {
  const n = line.length;
  if (pos === n) return NONE;
  let j = pos;
  while (j < n && isSpace(line.charCodeAt(j))) j++;
  return j === pos ? FAIL : j;
}
const NONE = -1;
const FAIL = -2;
const SPECIAL = /[#\\\n\r\u2028\u2029]/;

/**
 * A result line from `line[at]` (`ok`/`not ok`, `kw` its length):
 * `^(not ok|ok)\s+(\d+)(?:\s+-)?(?:\s+(.*))?$` matched by hand.
 */
function result(line: string, at: number, kw: number, indent: number): KtapLine | undefined {
  let q = at + kw;
  const s0 = q;
  let c = line.charCodeAt(q);
  while (isSpace(c)) c = line.charCodeAt(++q);
  if (q === s0) return undefined;
  const d0 = q;
  let number = 0;
  while (c >= 0x30 && c <= 0x39) {
    number = number * 10 + c - 0x30;
    c = line.charCodeAt(++q);
  }
  if (q === d0) return undefined;
  if (q - d0 > 15) number = Number(line.slice(d0, q));
  let j = q;
  while (isSpace(line.charCodeAt(j))) j++;
  let cap = j > q && line.charCodeAt(j) === 0x2d /* - */ ? tail(line, j + 1) : FAIL;
  if (cap === FAIL) cap = tail(line, q);
  if (cap === FAIL) return undefined;
  const ok = kw === 2;
  if (cap === NONE) return { kind: 'result', indent, ok, number, name: '' };
  const rest = line.slice(cap);
  // One scan for the rare characters: `(.*)$` fails on a line terminator; `#` and `\` need the slow path.
  if (!SPECIAL.test(rest)) return { kind: 'result', indent, ok, number, name: rest.trimEnd() };
  if (hasLineTerminator(rest)) return undefined;
  const desc = splitDescription(rest);
  const out: KtapLine = { kind: 'result', indent, ok, number, name: desc.name };
  if (desc.directive !== undefined) out.directive = desc.directive;
  if (desc.reason !== undefined) out.reason = desc.reason;
  return out;
}

/** Classify one line, from `from` on (where its printk prefix ended). */
export function classify(line: string, from = 0): KtapLine {
  let indent = 0;
  let i = from;
  for (; ; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x20) indent++;
    else if (c === 0x09) indent += 4;
    else break;
  }
  switch (line.charCodeAt(i)) {
    case 0x4b: // K
    case 0x54: {
      // T
      const m = VERSION.exec(line.slice(i));
      if (m) return { kind: 'version', indent, format: m[1] as 'KTAP' | 'TAP', version: Number(m[2]) };
      break;
    }
    case 0x31: {
      // 1
      const m = PLAN.exec(line.slice(i));
      if (m) return { kind: 'plan', indent, count: Number(m[1]) };
      break;
    }
    case 0x6f: // o
      if (line.startsWith('ok', i)) return result(line, i, 2, indent) ?? { kind: 'other', indent };
      break;
    case 0x6e: // n
      if (line.startsWith('not ok', i)) return result(line, i, 6, indent) ?? { kind: 'other', indent };
      break;
    case 0x23: {
      // #
      const r = line.charCodeAt(i + 1) === 0x20 ? i + 2 : i + 1;
      if (line.startsWith('Subtest:', r)) return { kind: 'subtest', indent, name: line.slice(r + 8).trim() };
      return { kind: 'diag', indent, text: line.slice(r).trimEnd() };
    }
  }
  return { kind: 'other', indent };
}

/** `# <test>.location: file:line` value → location (`^(.*):(\\d+)$`, by hand). */
export function parseLocation(value: string): Location | undefined {
  const colon = value.lastIndexOf(':');
  const n = value.length;
  if (colon === -1 || colon === n - 1) return undefined;
  let line = 0;
  for (let i = colon + 1; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
    line = line * 10 + c - 0x30;
  }
  if (hasLineTerminator(value)) return undefined; // `.` does not match them
  return { file: value.slice(0, colon), line: n - colon - 1 > 15 ? Number(value.slice(colon + 1)) : line };
}

/** `pass:1 fail:0 skip:2 total:3` → counts. */
export function parseStats(text: string): { pass: number; fail: number; skip: number; total: number } | undefined {
  const m = /^pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)\s*$/.exec(text);
  if (m === null) return undefined;
  return { pass: Number(m[1]), fail: Number(m[2]), skip: Number(m[3]), total: Number(m[4]) };
}

/** Suite-level KTAP attributes KUnit prints as `# <attr>: value`. */
export const SUITE_ATTRIBUTES: ReadonlySet<string> = new Set(['module', 'speed', 'is_init']);
