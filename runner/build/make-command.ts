/**
 * The `make` command lines of a build, per arch, as pure data: ARCH=, O=,
 * CROSS_COMPILE=, the make options, -j, and the target the arch's QEMU
 * profile boots (`modules` only when the run loads modules). kunit.py builds
 * `all compile_commands.json` every time; the image alone is enough to boot.
 */
import { PROFILES, type Arch } from '../qemu/profiles.js';

export interface MakeRequest {
  arch: Arch;
  /** The kernel tree (`make -C`). */
  source: string;
  /** Absolute build directory (`O=`). */
  buildDir: string;
  /** `CROSS_COMPILE=` prefix (none: the host's compiler). */
  crossCompile?: string;
  /** `X=Y` words passed as they are (`LLVM=1`). */
  makeOptions?: readonly string[];
  /** `-j`. */
  jobs: number;
  /** Also build the modules (`run --build --modules`). */
  modules?: boolean;
}

export interface MakeCommand {
  binary: 'make';
  args: string[];
}

/** The variables every make call of the build passes, in kunit.py's order. */
function variables(r: Omit<MakeRequest, 'jobs'>): string[] {
  return [
    `ARCH=${PROFILES[r.arch].build.linuxArch}`,
    `O=${r.buildDir}`,
    ...(r.crossCompile ? [`CROSS_COMPILE=${r.crossCompile}`] : []),
    ...(r.makeOptions ?? []),
  ];
}

/** `make olddefconfig`: fill the written .config with defaults. */
export function olddefconfigCommand(r: Omit<MakeRequest, 'jobs'>): MakeCommand {
  return { binary: 'make', args: ['-C', r.source, ...variables(r), 'olddefconfig'] };
}

/** `make rustavailable`: does the toolchain build Rust for this kernel? */
export function rustavailableCommand(r: Omit<MakeRequest, 'jobs'>): MakeCommand {
  return { binary: 'make', args: ['-C', r.source, ...variables(r), 'rustavailable'] };
}

/** The build: the image the profile boots, and `modules` when asked. */
export function buildCommand(r: MakeRequest): MakeCommand {
  const targets = [PROFILES[r.arch].build.target, ...(r.modules ? ['modules'] : [])];
  return { binary: 'make', args: ['-C', r.source, ...variables(r), `-j${r.jobs}`, ...targets] };
}

/** The compiler the build uses: clang with `LLVM=1` (or `CC=clang…`), else `<CROSS_COMPILE>gcc`. */
export function compilerOf(r: Pick<MakeRequest, 'crossCompile' | 'makeOptions'>): string {
  const opts = r.makeOptions ?? [];
  const cc = opts.find((o) => o.startsWith('CC='));
  if (cc) return cc.slice(3);
  const llvm = opts.find((o) => o.startsWith('LLVM='));
  if (llvm) {
    const v = llvm.slice(5);
    // LLVM=1, LLVM=-14 (a suffix), LLVM=/usr/lib/llvm-14/bin/ (a prefix).
    return v === '1' || v === '' ? 'clang' : v.endsWith('/') ? `${v}clang` : `clang${v}`;
  }
  return `${r.crossCompile ?? ''}gcc`;
}

/** A command as one shell-like line, for messages and the log's head. */
export function commandLine(c: MakeCommand): string {
  return [c.binary, ...c.args].map((a) => (/^[\w./=+,:@%-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
}
