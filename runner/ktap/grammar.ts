/**
 * KTAP line classifier. Pure, no I/O, no state.
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
import type { Directive } from './model.js';

export type KtapLine =
  | { kind: 'version'; indent: number; format: 'KTAP' | 'TAP'; version: number }
  | { kind: 'plan'; indent: number; count: number }
  | {
    kind: 'result'; indent: number; ok: boolean; number?: number; name: string;
    directive?: Directive; reason?: string;
  }
  | { kind: 'subtest'; indent: number; name: string }
  | { kind: 'diag'; indent: number; text: string }
  | { kind: 'other'; indent: number };

const VERSION = /^(K?TAP) version (\d+)\s*$/;
const PLAN = /^1\.\.(\d+)\s*(?:#.*)?$/;
const RESULT = /^(not ok|ok)\s+(\d+)(?:\s+-)?(?:\s+(.*))?$/;
const DIRECTIVE = /^(SKIP|TODO|XFAIL|TIMEOUT|ERROR)\w*(?:[\s:]+(.*))?$/i;

/** Leading whitespace width (space = 1, tab = 4) and where the text starts. */
function measureIndent(body: string): [indent: number, start: number] {
  let indent = 0;
  let i = 0;
  for (; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x20) indent++;
    else if (c === 0x09) indent += 4;
    else break;
  }
  return [indent, i];
}

/** Unescape TAP's `\#` and `\\`. */
function unescape(text: string): string {
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
  if (hash === -1) return { name: unescape(rest.trimEnd()) };
  const name = unescape(rest.slice(0, hash).trimEnd());
  const comment = rest.slice(hash + 1).trim();
  const m = DIRECTIVE.exec(comment);
  if (m === null) return { name };
  const directive = m[1]!.toUpperCase() as Directive;
  const reason = m[2]?.trim();
  return reason ? { name, directive, reason: unescape(reason) } : { name, directive };
}

/** Classify one line (printk prefix already removed). */
export function classify(body: string): KtapLine {
  const [indent, start] = measureIndent(body);
  const c = body.charCodeAt(start);
  const text = start === 0 ? body : body.slice(start);
  switch (c) {
    case 0x4b: // K
    case 0x54: { // T
      const m = VERSION.exec(text);
      if (m) return { kind: 'version', indent, format: m[1] as 'KTAP' | 'TAP', version: Number(m[2]) };
      break;
    }
    case 0x31: { // 1
      const m = PLAN.exec(text);
      if (m) return { kind: 'plan', indent, count: Number(m[1]) };
      break;
    }
    case 0x6f: // o
    case 0x6e: { // n
      if (!(text.startsWith('ok') || text.startsWith('not ok'))) break;
      const m = RESULT.exec(text);
      if (m === null) break;
      const desc = splitDescription(m[3] ?? '');
      const line: KtapLine = { kind: 'result', indent, ok: m[1] === 'ok', name: desc.name };
      if (m[2] !== undefined) line.number = Number(m[2]);
      if (desc.directive !== undefined) line.directive = desc.directive;
      if (desc.reason !== undefined) line.reason = desc.reason;
      return line;
    }
    case 0x23: { // #
      const rest = text.charCodeAt(1) === 0x20 ? text.slice(2) : text.slice(1);
      if (rest.startsWith('Subtest:')) return { kind: 'subtest', indent, name: rest.slice(8).trim() };
      return { kind: 'diag', indent, text: rest.trimEnd() };
    }
  }
  return { kind: 'other', indent };
}

/** `pass:1 fail:0 skip:2 total:3` → counts. */
export function parseStats(text: string): { pass: number; fail: number; skip: number; total: number } | undefined {
  const m = /^pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)\s*$/.exec(text);
  if (m === null) return undefined;
  return { pass: Number(m[1]), fail: Number(m[2]), skip: Number(m[3]), total: Number(m[4]) };
}

/** Suite-level KTAP attributes KUnit prints as `# <attr>: value`. */
export const SUITE_ATTRIBUTES: ReadonlySet<string> = new Set(['module', 'speed', 'is_init']);
