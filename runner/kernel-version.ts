/**
 * What the boot log says about the kernel: `Linux version 6.12.117
 * (user@host) (Debian clang version 14.0.6, Debian LLD 14.0.6) #1 SMP …`.
 * Pure.
 */

export interface KernelBanner {
  /** `6.12.117`. */
  version: string;
  /** `Debian clang version 14.0.6, Debian LLD 14.0.6`, when printed. */
  compiler?: string;
}

const BANNER = /Linux version (\S+)(?: \([^)]*\))?(?: \((.*?)\))? #/;

/** The first `Linux version` banner in `text` (the head of a console log is enough). */
export function kernelBanner(text: string): KernelBanner | undefined {
  const m = BANNER.exec(text) ?? /Linux version (\S+)/.exec(text);
  if (!m) return undefined;
  return m[2] ? { version: m[1]!, compiler: m[2] } : { version: m[1]! };
}

/** Metadata keys for a banner: `kernelVersion`, `compiler`. */
export function bannerMetadata(text: string): Record<string, string> {
  const b = kernelBanner(text);
  if (!b) return {};
  return b.compiler ? { kernelVersion: b.version, compiler: b.compiler } : { kernelVersion: b.version };
}
