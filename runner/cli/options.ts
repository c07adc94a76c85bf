/**
 * Option values, checked where commander reads them: each parser returns the
 * typed value or throws one `E_USAGE` line (exit 2) naming the flag.
 */
import { Option } from 'commander';
import { BridgeError } from '../errors.js';
import { normalizeArch } from '../qemu/profiles.js';
import { parseShardSpec, type ShardSpec } from '../shard-plan.js';
import { shouldColor } from '../../reporters/console.js';

/** A usage error: one line on stderr, exit 2. */
export function usage(message: string): never {
  throw new BridgeError('E_USAGE', message);
}

export const int =
  (name: string, min: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) usage(`${name} must be a whole number >= ${min}, not "${v}"`);
    return n;
  };

export const seconds =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) usage(`${name} must be a number of seconds, not "${v}"`);
    return n;
  };

/** A repeatable option of space-separated words (`--append`, `--qemu-args`). */
export const words = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(/\s+/).filter(Boolean)];

/** A repeatable option, each value kept whole (`--modules`, `--identity`). */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** `--guest-write /PATH=VALUE`, repeatable. */
export const guestWrite = (v: string, prev: [string, string][] = []): [string, string][] => {
  const eq = v.indexOf('=');
  if (eq <= 0 || !v.startsWith('/')) usage(`--guest-write wants /ABSOLUTE/PATH=VALUE, not "${v}"`);
  return [...prev, [v.slice(0, eq), v.slice(eq + 1)]];
};

export const kcidbOrigin = (v: string): string => {
  if (!/^[a-z0-9_]+$/.test(v)) usage(`--kcidb-origin must match ^[a-z0-9_]+$ (lower-case letters, digits, _), not "${v}"`);
  return v;
};

export const shardSpec = (v: string): ShardSpec => parseShardSpec(v) ?? usage(`--shard wants K/N with 1 <= K <= N (e.g. 2/3), not "${v}"`);

export const arch = (v: string): string => normalizeArch(v) ?? usage(`unknown --arch ${v} (use x86_64, arm64 or riscv64)`);

export type ColorWhen = 'auto' | 'always' | 'never';

/** `--color auto|always|never` (auto: on a TTY, unless NO_COLOR). */
export const colorOption = (what: string): Option =>
  new Option('--color <when>', `colour the ${what}`).choices(['auto', 'always', 'never']).default('auto');

export function colorFor(when: ColorWhen | undefined): boolean {
  return when === 'always' ? true : when === 'never' ? false : shouldColor(process.stdout);
}

/** The flags every command has. */
export interface CommonFlags {
  quiet?: boolean;
  color?: ColorWhen;
}
