/**
 * Where a build happens and what it is asked for, read from the disk: the
 * kernel tree, the build dir, and the kunitconfig fragments (kunit.py's
 * defaults: the build dir's `.kunitconfig`, else the tree's default.config,
 * copied there), parsed and merged (kunitconfig.ts) into one list.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { BridgeError, describeReadError } from '../errors.js';
import { PROFILES, type Arch } from '../qemu/profiles.js';
import { describeConflicts, mergeFragments, overlay, parseFragment, type Fragment, type KconfigEntry } from './kunitconfig.js';

export const DEFAULT_KUNITCONFIG = 'tools/testing/kunit/configs/default.config';
export const ALL_TESTS_CONFIG = 'tools/testing/kunit/configs/all_tests.config';

/** The kernel tree: `dir`, or the current directory; it must have a top Makefile and Kconfig. */
export function findSource(dir: string | undefined, cwd: string): string {
  const source = resolve(cwd, dir ?? '.');
  if (!existsSync(join(source, 'Kconfig')) || !existsSync(join(source, 'Makefile')))
    throw new BridgeError(
      'E_NOT_KERNEL_TREE',
      `${source} is not a kernel tree (no Makefile and Kconfig at its top): run in the tree, or pass --source DIR`,
    );
  return source;
}

/** The build dir: `--build-dir` (relative to the tree), default `.kunit`, under `$KBUILD_OUTPUT` when set (as kunit.py). */
export function buildDirOf(source: string, given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const dir = given ?? '.kunit';
  const base = env['KBUILD_OUTPUT'] ? resolve(source, env['KBUILD_OUTPUT']) : source;
  return isAbsolute(dir) ? dir : resolve(base, dir);
}

/** A path as messages show it: relative to the tree when inside it. */
export function shown(source: string, path: string): string {
  const rel = relative(source, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function readFragment(source: string, path: string): Fragment {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new BridgeError('E_KUNITCONFIG', `cannot read kunitconfig ${path}: ${describeReadError(err)}`, { cause: err });
  }
  const { fragment, errors } = parseFragment(text, shown(source, path));
  if (errors.length > 0)
    throw new BridgeError(
      'E_KUNITCONFIG',
      `${errors[0]!.where}: not a Kconfig line: ${errors[0]!.line} (write CONFIG_NAME=value or # CONFIG_NAME is not set)`,
    );
  return fragment;
}

export interface FragmentRequest {
  source: string;
  buildDir: string;
  arch: Arch;
  /** `--kunitconfig` paths (a directory means its `.kunitconfig`), relative to `cwd`. */
  kunitconfigs?: readonly string[];
  kconfigAdd?: readonly string[];
  alltests?: boolean;
  cwd: string;
}

export interface MergedConfig {
  /** What the .config must hold: the profile's options, the kunitconfig's over them, `--kconfig-add` over all. */
  entries: KconfigEntry[];
  /** The kunitconfig files read, in order (absolute). */
  files: string[];
}

/** The kunitconfig files a request means (kunit.py's get_parsed_kunitconfig), the default copied into the build dir. */
export function kunitconfigPaths(r: FragmentRequest): string[] {
  const given = (r.kunitconfigs ?? []).map((p) => {
    const abs = resolve(r.cwd, p);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      // a missing path is reported when it is read
    }
    return isDir ? join(abs, '.kunitconfig') : abs;
  });
  const paths = r.alltests ? [join(r.source, ALL_TESTS_CONFIG), ...given] : given;
  if (paths.length > 0) return paths;
  const own = join(r.buildDir, '.kunitconfig');
  if (!existsSync(own)) {
    mkdirSync(r.buildDir, { recursive: true });
    copyFileSync(join(r.source, DEFAULT_KUNITCONFIG), own);
  }
  return [own];
}

/** Read, parse and merge: conflicts between fragments are one E_KCONFIG_CONFLICT line naming both places. */
export function mergedConfig(r: FragmentRequest): MergedConfig {
  const files = kunitconfigPaths(r);
  const { entries, conflicts } = mergeFragments(files.map((f) => readFragment(r.source, f)));
  if (conflicts.length > 0)
    throw new BridgeError(
      'E_KCONFIG_CONFLICT',
      `the kunitconfig fragments disagree on ${conflicts.length} option(s): ${describeConflicts(conflicts)} (keep one value)`,
    );
  const add = parseFragment((r.kconfigAdd ?? []).join('\n'), '--kconfig-add', false);
  if (add.errors.length > 0) throw new BridgeError('E_USAGE', `--kconfig-add ${add.errors[0]!.line}: write CONFIG_NAME=value`);
  const profile = parseFragment(PROFILES[r.arch].build.kconfig.join('\n'), `the ${r.arch} profile`, false).fragment.entries;
  return { entries: overlay(overlay(profile, entries), add.fragment.entries), files };
}
