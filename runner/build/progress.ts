/**
 * What make's output says about a build's progress, without I/O: each
 * kbuild step line (`  CC      kernel/fork.o`) is classified, and a
 * {@link BuildProgress} counts the objects compiled and names the current one.
 *
 * Accepted format (kbuild's quiet output, `V=0`, on stdout):
 *
 *   make[1]: Entering directory '/build/.kunit'
 *     SYNC    include/config/auto.conf
 *     HOSTCC  scripts/basic/fixdep
 *     CC      init/main.o
 *     CC [M]  lib/list-test.o
 *     RUSTC L rust/core.o
 *     LD      vmlinux
 *   Kernel: arch/x86/boot/bzImage is ready  (#1)
 */

/** One kbuild step: the tool's tag (`CC`, `AS`, `LD`, `RUSTC L`, …) and its target. */
export interface MakeStep {
  tool: string;
  target: string;
  /** Built as a module (`CC [M]`). */
  module: boolean;
}

// Two spaces, an upper-case tag (maybe two words: `RUSTC L`, `HOSTCC`), an optional [M], then the target.
const STEP = /^ {2}([A-Z][A-Z0-9_-]*(?: [A-Z])?)(?: \[M\])?\s+(\S.*)$/;

/** A kbuild step line, or undefined for anything else (make's own lines, warnings, errors). */
export function parseStep(line: string): MakeStep | undefined {
  const m = STEP.exec(line);
  if (!m) return undefined;
  return { tool: m[1]!, target: m[2]!.trim(), module: line.includes(' [M] ') };
}

/** Steps that compile one object of the kernel (not a host program, not a link). */
const COMPILE_TOOLS = new Set(['CC', 'AS', 'RUSTC', 'RUSTC L', 'RUSTC P']);

/** Whether a step compiles a kernel object (what the progress counts). */
export function compilesObject(step: MakeStep): boolean {
  return COMPILE_TOOLS.has(step.tool) && /\.(o|s|i|lst)$/.test(step.target);
}

export interface ProgressSnapshot {
  /** Kernel objects compiled so far. */
  compiled: number;
  /** Every kbuild step so far (host programs, links, generated files too). */
  steps: number;
  /** The last step's tag and target. */
  current?: string;
  /** The targets linked (`LD vmlinux`, …). */
  linked: number;
}

/** Folds make's output, line by line, into a {@link ProgressSnapshot}. */
export class BuildProgress {
  private snap: ProgressSnapshot = { compiled: 0, steps: 0, linked: 0 };

  /** One line of make's output; returns the step it was, if it was one. */
  line(text: string): MakeStep | undefined {
    const step = parseStep(text);
    if (!step) return undefined;
    const s = this.snap;
    s.steps++;
    if (compilesObject(step)) s.compiled++;
    if (step.tool === 'LD') s.linked++;
    s.current = `${step.tool} ${step.target}`;
    return step;
  }

  get snapshot(): Readonly<ProgressSnapshot> {
    return this.snap;
  }
}

/** `1:05` for 65 s. */
export function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The progress line: `[1:05] 312/1480 objects  CC kernel/fork.o` (the total
 * when the last build of this tree counted one, else `312 objects`).
 */
export function progressLine(p: Readonly<ProgressSnapshot>, elapsedMs: number, estimate?: number): string {
  const count = estimate && estimate >= p.compiled ? `${p.compiled}/${estimate}` : String(p.compiled);
  return `[${clock(elapsedMs)}] ${count} objects${p.current ? `  ${p.current}` : ''}`;
}
