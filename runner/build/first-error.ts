/**
 * The first compiler or linker error in make's output, with its `file:line`
 * and the lines that explain it; pure (the lines are given).
 *
 * Accepted formats:
 *
 *   kernel/fork.c:123:5: error: 'foo' undeclared (first use in this function)
 *     123 |     foo = 1;
 *         |     ^~~
 *   ld: vmlinux.o: in function `bar':
 *   fork.c:(.text+0x1c): undefined reference to `baz'
 *   ld.lld: error: undefined symbol: baz
 *   >>> referenced by fork.c:12 (kernel/fork.c:12)
 *   error[E0425]: cannot find value `x` in this scope
 *     --> rust/kernel/lib.rs:10:5
 *   make[4]: *** [scripts/Makefile.build:229: kernel/fork.o] Error 1
 */

export interface BuildErrorReport {
  /** `file:line` (relative to the tree), when the error names one. */
  location?: string;
  /** The error itself, without its location (`error: 'foo' undeclared …`). */
  message: string;
  /** It and the lines after it that belong to it (source excerpt, `>>>` notes), at most {@link MAX_LINES}. */
  lines: string[];
}

export const MAX_LINES = 12;

const C_ERROR = /^(\S+?):(\d+):(?:(\d+):)? (?:fatal )?error: (.*)$/;
const LD_ERROR = /^(?:\S*\/)?(?:[\w.-]+-)?ld(?:\.lld|\.bfd|\.gold)?: (.*)$/;
const RUST_ERROR = /^error(?:\[E\d+\])?: (.*)$/;
const RUST_AT = /^\s*--> (\S+?):(\d+)(?::\d+)?$/;
const GNU_LD_NEXT = /^(\S+?): ((?:undefined reference|multiple definition|relocation truncated).*)$/;
const MAKE_ERROR = /^make(?:\[\d+\])?: \*\*\* (.*)$/;
// A location inside a linker message: `(kernel/fork.c:12)` (the full path, preferred) or `fork.c:12`.
const LD_AT_FULL = /\(([^()\s]+):(\d+)\)/;
const LD_AT = /\b([\w./-]+\.[chS]):(\d+)/;

/** Lines that continue an error: gcc's source excerpt, lld's `>>>` notes, rustc's `|` gutter. */
function continues(line: string): boolean {
  return /^\s+(\d+\s+)?\|/.test(line) || line.startsWith('>>> ') || /^\s+(-->|= )/.test(line);
}

function withFollowing(lines: readonly string[], i: number): string[] {
  const out = [lines[i]!];
  for (let j = i + 1; j < lines.length && out.length < MAX_LINES && continues(lines[j]!); j++) out.push(lines[j]!);
  return out;
}

/** Strip the build dir's prefix (`../`, `/abs/tree/`) so the location reads relative to the tree. */
function relative(file: string, source?: string): string {
  if (source && file.startsWith(`${source}/`)) return file.slice(source.length + 1);
  return file.replace(/^(\.\.\/)+/, '');
}

/** `file:line: message`, or the message alone. */
export function describeError(e: BuildErrorReport): string {
  return e.location ? `${e.location}: ${e.message}` : e.message;
}

/** The first error in the output (else make's own `***` line), or undefined when there is none. */
export function firstError(lines: readonly string[], source?: string): BuildErrorReport | undefined {
  let makeLine: BuildErrorReport | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const c = C_ERROR.exec(line);
    if (c) return { location: `${relative(c[1]!, source)}:${c[2]}`, message: `error: ${c[4]}`, lines: withFollowing(lines, i) };
    const ld = LD_ERROR.exec(line);
    // GNU ld: `ld: x.o: in function `f':` then `x.c:12: undefined reference to `g'` (`x.c:(.text+0x5):` without debug info).
    const next = lines[i + 1] ?? '';
    const gnu = ld && /in function/.test(ld[1]!) ? GNU_LD_NEXT.exec(next) : null;
    if (gnu) {
      const at = /^(\S+?):(\d+)$/.exec(gnu[1]!);
      return { ...(at ? { location: `${relative(at[1]!, source)}:${at[2]}` } : {}), message: gnu[2]!, lines: [line, next] };
    }
    if (ld && /error|undefined reference|multiple definition|cannot find|undefined symbol/i.test(ld[1]!)) {
      const block = withFollowing(lines, i);
      const at = block.map((l) => LD_AT_FULL.exec(l)).find((m) => m) ?? block.map((l) => LD_AT.exec(l)).find((m) => m);
      const location = at ? `${relative(at[1]!, source)}:${at[2]}` : undefined;
      return { ...(location ? { location } : {}), message: ld[1]!, lines: block };
    }
    const r = RUST_ERROR.exec(line);
    if (r && !/aborting due to/.test(r[1]!)) {
      const block = withFollowing(lines, i);
      const at = block.map((l) => RUST_AT.exec(l)).find((m) => m);
      return { ...(at ? { location: `${relative(at[1]!, source)}:${at[2]}` } : {}), message: `error: ${r[1]}`, lines: block };
    }
    const mk = makeLine ? undefined : MAKE_ERROR.exec(line);
    if (mk) makeLine = { message: mk[1]!, lines: [line] };
  }
  return makeLine;
}
