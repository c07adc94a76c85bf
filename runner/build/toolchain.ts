/**
 * The build's tools: the compiler is there before anything starts (a
 * missing cross compiler is one line naming the Debian package), a failed
 * make whose output says a host tool or header is missing is told apart from
 * a compile error, and the versions go into the build's record.
 */
import { execFileSync } from 'node:child_process';
import { BridgeError } from '../errors.js';
import { findExecutable } from '../qemu/process.js';
import { PROFILES, type Arch } from '../qemu/profiles.js';

/** Host tools and headers kbuild needs, how their absence shows in make's output, and their Debian package. */
const HOST_NEEDS: readonly { match: RegExp; what: string; pkg: string }[] = [
  { match: /\bflex: (?:not found|No such file)/, what: 'flex', pkg: 'flex' },
  { match: /\bbison: (?:not found|No such file)/, what: 'bison', pkg: 'bison' },
  { match: /\bbc: (?:not found|No such file)/, what: 'bc', pkg: 'bc' },
  { match: /\b(?:libelf\.h|gelf\.h): No such file/, what: 'the libelf headers', pkg: 'libelf-dev' },
  { match: /\bopenssl\/\w+\.h: No such file/, what: 'the OpenSSL headers', pkg: 'libssl-dev' },
  { match: /\b(?:cpio|pahole|perl|python3): (?:not found|No such file)/, what: 'a host tool', pkg: 'cpio dwarves perl python3' },
  { match: /\bstdio\.h: No such file/, what: 'the C library headers', pkg: 'libc6-dev' },
];

/** A missing host tool or header that make's output names, as an E_TOOLCHAIN_MISSING error; undefined when none. */
export function missingHostTool(lines: readonly string[], log: string): BridgeError | undefined {
  for (const line of lines) {
    const need = HOST_NEEDS.find((n) => n.match.test(line));
    if (need)
      return new BridgeError(
        'E_TOOLCHAIN_MISSING',
        `the kernel build needs ${need.what}: ${line.trim()} (apt-get install ${need.pkg}; full log: ${log})`,
      );
  }
  return undefined;
}

/** Throws E_TOOLCHAIN_MISSING when `compiler` (e.g. `aarch64-linux-gnu-gcc`, `clang`) is not on PATH. */
export function checkCompiler(compiler: string, arch: Arch, crossCompile: string | undefined): void {
  if ('code' in findExecutable('make')) throw new BridgeError('E_TOOLCHAIN_MISSING', 'make is not installed (apt-get install make)');
  if (!('code' in findExecutable(compiler))) return;
  const b = PROFILES[arch].build;
  const pkg = compiler.includes('clang')
    ? 'clang lld llvm'
    : crossCompile === b.crossPrefix
      ? b.crossPackage
      : crossCompile
        ? `the cross compiler for ${crossCompile}`
        : 'gcc';
  throw new BridgeError(
    'E_TOOLCHAIN_MISSING',
    `${compiler} not found: the ${arch} build needs it (apt-get install ${pkg}${crossCompile ? ', or --cross-compile PREFIX' : ''}; or --make-options LLVM=1 with clang)`,
  );
}

/** The first line of `tool --version`, or undefined when it does not run. */
export function toolVersion(tool: string): string | undefined {
  try {
    return execFileSync(tool, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 })
      .split('\n')[0]!
      .trim();
  } catch {
    return undefined;
  }
}

/** The versions the build's record holds: the compiler, the linker, and with Rust rustc and bindgen. */
export function toolchainVersions(compiler: string, linker: string, rust: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const tools: [string, string][] = [
    ['cc', compiler],
    ['ld', linker],
    ...(rust
      ? ([
          ['rustc', 'rustc'],
          ['bindgen', 'bindgen'],
        ] as [string, string][])
      : []),
  ];
  for (const [key, tool] of tools) {
    const v = toolVersion(tool);
    if (v) out[key] = v;
  }
  return out;
}
