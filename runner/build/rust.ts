/**
 * `CONFIG_RUST=y` asked for: what `make rustavailable` (the kernel's
 * scripts/rust_is_available.sh) said is missing, in words and Debian
 * packages. Pure: the script's output in, the diagnosis out.
 *
 * Accepted format (the script's stderr):
 *
 *   ***
 *   *** Rust bindings generator 'bindgen' could not be found.
 *   ***
 */

export interface RustGap {
  /** What is missing or unusable, in a few words. */
  what: string;
  /** The Debian packages that provide it. */
  packages: string[];
}

/** Debian 12's packages: rustc-web is the one new enough for Linux 6.12 (docs/build.md#rust). */
const GAPS: readonly { match: RegExp; gap: RustGap }[] = [
  { match: /Rust compiler '[^']*' could not be found/, gap: { what: 'rustc (the Rust compiler)', packages: ['rustc-web'] } },
  {
    match: /Rust compiler '[^']*' is too old|check the Rust compiler version/,
    gap: { what: 'a rustc new enough for this kernel', packages: ['rustc-web'] },
  },
  { match: /bindings generator '[^']*' could not be found/, gap: { what: 'bindgen', packages: ['bindgen'] } },
  {
    match: /bindings generator '[^']*' is too old|check the (?:Rust )?bindings generator version/,
    gap: {
      what: 'a bindgen new enough for this kernel (Debian 12 has 0.60.1: see docs/build.md#rust for the kernel patch)',
      packages: ['bindgen'],
    },
  },
  { match: /check the libclang version|libclang/, gap: { what: 'libclang (for bindgen)', packages: ['libclang-dev', 'clang'] } },
  {
    match: /Source code for the 'core' standard library/,
    gap: { what: "rust-src (the 'core' library's source)", packages: ['rust-web-src'] },
  },
  {
    match: /Environment variable 'CC' is not set|'clang'|ld\.lld/,
    gap: { what: 'clang and lld (LLVM=1)', packages: ['clang', 'lld', 'llvm'] },
  },
];

/** The gaps `make rustavailable`'s output names, in the script's order, each once. */
export function rustGaps(output: string): RustGap[] {
  const out: RustGap[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('***')) continue;
    const g = GAPS.find((x) => x.match.test(line));
    if (g && !out.includes(g.gap)) out.push(g.gap);
  }
  return out;
}

/** One line: what is missing and what to install. */
export function describeRustGaps(gaps: readonly RustGap[], output: string): string {
  if (gaps.length === 0) {
    const first = output.split('\n').find((l) => /^\*\*\* \S/.test(l)) ?? output.trim().split('\n').pop() ?? '';
    return `make rustavailable failed: ${first.replace(/^\*\*\* /, '')}`;
  }
  const packages = [...new Set(gaps.flatMap((g) => g.packages))];
  return `the Rust toolchain is not usable for this kernel: missing ${gaps.map((g) => g.what).join(', ')} (apt-get install ${packages.join(' ')}; and --make-options LLVM=1)`;
}

/** Whether a merged configuration asks for Rust. */
export function wantsRust(entries: readonly { name: string; value: string }[]): boolean {
  return entries.some((e) => e.name === 'RUST' && e.value === 'y');
}
