/**
 * `kunit-bridge build` and `run --build` on a real kernel tree: Debian's linux-source-6.12, unpacked
 * once into a cache (test/helpers/linux-source.ts), hard-link copied for this file, configured from
 * a small kunitconfig, built with gcc for x86_64 (the cold build is most of this file's time), booted
 * in QEMU (TCG). Then the no-change loop (no reconfiguration, no recompilation: make's log and the
 * objects' mtimes say so), and each failure its message and exit code.
 */
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { freshCache, processesWith, runCli, startCli, tempDir } from '../helpers/cli.js';
import { linkCopy, linuxSource, replaceFile } from '../helpers/linux-source.js';
import { readResults } from '../helpers/results-json.js';
import { waitFor } from '../helpers/wait-for.js';
import { suiteCounts, type SuiteCounts } from './expected.js';

const MINUTE = 60_000;
/** That kunitconfig's suites on x86_64 (KUnit's example suites and lib/list-test.c's three). */
const SUITES: SuiteCounts[] = [
  ['example_init', 1, 0, 0],
  ['example', 8, 0, 4],
  ['list-kunit-test', 39, 0, 0],
  ['hlist', 18, 0, 0],
  ['klist', 8, 0, 0],
];

interface BuildJson {
  reconfigured: boolean;
  makeRun: boolean;
  objectsCompiled: number;
  configHash: string;
  fragments: { path: string; sha256: string }[];
  compilers: Record<string, string>;
  image: string;
  durationMs: number;
}

let tree = '';
let work = '';
let kunitconfig = '';
let buildDir = '';

beforeAll(() => {
  const source = linuxSource();
  work = tempDir('kunit-bridge-build-');
  tree = linkCopy(source, join(work, 'linux'));
  buildDir = join(work, 'build');
  kunitconfig = join(work, 'kunitconfig');
  // KUnit, its example suites and lib/list-test.c's, less what a KUnit boot in QEMU does not use (ACPI, the block
  // layer, io_uring, the VT and input: about a third of a cold build).
  writeFileSync(
    kunitconfig,
    [
      'CONFIG_KUNIT=y',
      'CONFIG_KUNIT_EXAMPLE_TEST=y',
      'CONFIG_LIST_KUNIT_TEST=y',
      'CONFIG_EXPERT=y',
      '# CONFIG_ACPI is not set',
      '# CONFIG_BLOCK is not set',
      '# CONFIG_IO_URING is not set',
      '# CONFIG_VT is not set',
      '# CONFIG_INPUT is not set',
      '# CONFIG_HID_SUPPORT is not set',
      '',
    ].join('\n'),
  );
}, 10 * MINUTE);

const TCG = ['--arch', 'x86_64', '--accel', 'tcg', '-j', '1'];
const mtimes = (paths: string[]): number[] => paths.map((p) => statSync(join(buildDir, p)).mtimeMs);
const OBJECTS = ['.config', 'init/main.o', 'lib/list-test.o', 'vmlinux', 'arch/x86/boot/bzImage'];

describe('run --build on linux-source-6.12 (x86_64, gcc)', () => {
  test(
    'a cold build: configured, built, booted; the results are the kunitconfig suites, the build is in results.json',
    async () => {
      const out = tempDir();
      const r = await runCli(
        ['run', '--build', '--source', tree, '--build-dir', buildDir, '--kunitconfig', kunitconfig, ...TCG, '-o', out],
        { env: { KUNIT_BRIDGE_CACHE: freshCache() } },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('$ make olddefconfig');
      expect(r.stderr).toMatch(/built .*arch\/x86\/boot\/bzImage in \d+:\d\d: \d+ objects compiled, configuration made/);
      const json = readResults(out);
      expect(suiteCounts(json)).toEqual(SUITES);
      const build = (json as unknown as { build: BuildJson }).build;
      expect(build.reconfigured).toBe(true);
      expect(build.objectsCompiled).toBeGreaterThan(400);
      expect(build.image).toBe(join(buildDir, 'arch/x86/boot/bzImage'));
      expect(build.fragments).toEqual([{ path: kunitconfig, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
      expect(build.configHash).toMatch(/^[0-9a-f]{64}$/);
      expect(build.compilers['cc']).toMatch(/^gcc /);
      expect(json.metadata['kernel']).toBe(build.image);
      // The whole build log is in the build dir.
      expect(readFileSync(join(buildDir, 'build.log'), 'utf8')).toMatch(/^ {2}CC {6}lib\/list-test\.o$/m);
    },
    90 * MINUTE,
  );

  test(
    'the no-change loop: no reconfiguration, nothing recompiled or relinked, the same results',
    async () => {
      const before = mtimes(OBJECTS);
      const out = tempDir();
      const r = await runCli([
        'run',
        '--build',
        '--source',
        tree,
        '--build-dir',
        buildDir,
        '--kunitconfig',
        kunitconfig,
        ...TCG,
        '-o',
        out,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('olddefconfig');
      expect(r.stderr).toContain('nothing changed, make not run');
      const log = readFileSync(join(buildDir, 'build.log'), 'utf8');
      expect(log).toMatch(/^kunit-bridge: nothing changed since the build that ended .*: make not run/);
      expect(log).not.toMatch(/^ {2}(CC|LD|SYNC|AR) /m);
      expect(mtimes(OBJECTS)).toEqual(before);
      const json = readResults(out);
      expect(suiteCounts(json)).toEqual(SUITES);
      const build = (json as unknown as { build: BuildJson }).build;
      expect([build.reconfigured, build.makeRun, build.objectsCompiled]).toEqual([false, false, 0]);
      // With --make-always make runs, and finds nothing to do either.
      const again = await runCli(['build', '--source', tree, '--build-dir', buildDir, '--kunitconfig', kunitconfig, '--make-always']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain('nothing to recompile');
      expect(readFileSync(join(buildDir, 'build.log'), 'utf8')).not.toMatch(/^ {2}(CC|LD|SYNC|AR) /m);
      expect(mtimes(OBJECTS)).toEqual(before);
    },
    20 * MINUTE,
  );

  test(
    'a compile error: exit 9 with the file:line and the compiler lines, and the full log',
    async () => {
      const file = join(tree, 'lib/list-test.c');
      const original = readFileSync(file, 'utf8');
      const lines = original.split('\n');
      const at = lines.findIndex((l) => l.startsWith('static void list_test_list_init('));
      lines.splice(at, 0, 'static int kunit_bridge_broken = ;');
      replaceFile(file, lines.join('\n'));
      try {
        const r = await runCli(['build', '--source', tree, '--build-dir', buildDir, '--kunitconfig', kunitconfig]);
        expect(r.code, r.stderr).toBe(9);
        expect(r.stderr).toContain(`kunit-bridge: the kernel did not build: lib/list-test.c:${at + 1}: error: expected expression`);
        expect(r.stderr).toContain('kunit_bridge_broken');
        expect(r.stderr).toContain(`(full log: ${join(buildDir, 'build.log')})`);
        expect(r.stdout).toBe('');
      } finally {
        // Back to the shared tree's own file (a hard link again).
        unlinkSync(file);
        linkSync(join(linuxSource(), 'lib/list-test.c'), file);
      }
      // The file is back, with its old mtime (older than the object the failed compile left alone): the
      // shortcut sees that lib/ changed and runs make, which rightly finds nothing to recompile.
      const fixed = await runCli(['build', '--source', tree, '--build-dir', buildDir, '--kunitconfig', kunitconfig]);
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(fixed.stderr).toContain('nothing to recompile');
      expect(fixed.stderr).not.toContain('make not run');
    },
    20 * MINUTE,
  );

  test('conflicting fragments: exit 2 naming both FILE:LINE, before make runs', async () => {
    const other = join(work, 'other.kunitconfig');
    writeFileSync(other, '# mine\nCONFIG_LIST_KUNIT_TEST=n\n');
    const r = await runCli([
      'build',
      '--source',
      tree,
      '--build-dir',
      join(work, 'conflict'),
      '--kunitconfig',
      kunitconfig,
      '--kunitconfig',
      other,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `kunit-bridge: the kunitconfig fragments disagree on 1 option(s): CONFIG_LIST_KUNIT_TEST=y (${kunitconfig}:3) vs # CONFIG_LIST_KUNIT_TEST is not set (${other}:2) (keep one value)\n`,
    );
  });

  test(
    'an option whose dependency is not met: exit 2 naming it and what it needs',
    async () => {
      const unmet = join(work, 'unmet.kunitconfig');
      writeFileSync(unmet, 'CONFIG_KUNIT=y\nCONFIG_EXT4_KUNIT_TESTS=y\n');
      const r = await runCli(['build', '--source', tree, '--build-dir', join(work, 'unmet'), '--kunitconfig', unmet]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `CONFIG_EXT4_KUNIT_TESTS=y (${unmet}:2) is not set: depends on EXT4_FS && KUNIT (fs/ext4/Kconfig:105); not set: CONFIG_EXT4_FS`,
      );
    },
    10 * MINUTE,
  );

  test('a missing cross compiler: exit 4 naming it, nothing configured', async () => {
    const dir = join(work, 'cross');
    const r = await runCli(['build', '--source', tree, '--build-dir', dir, '--arch', 'arm64', '--cross-compile', 'kunit-bridge-missing-']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^kunit-bridge: kunit-bridge-missing-gcc not found: the arm64 build needs it/);
    expect(() => statSync(join(dir, '.config'))).toThrow();
  });

  test('CONFIG_RUST=y without a usable rustc: exit 4 saying what is missing and the Debian package', async () => {
    const r = await runCli([
      'build',
      '--source',
      tree,
      '--build-dir',
      join(work, 'rust'),
      '--kunitconfig',
      kunitconfig,
      '--kconfig-add',
      'CONFIG_RUST=y',
      '--make-options',
      'RUSTC=kunit-bridge-no-rustc',
    ]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('missing rustc (the Rust compiler) (apt-get install rustc-web');
  });

  test(
    'Ctrl-C during the build stops make and every compiler, exit 130',
    async () => {
      const dir = join(work, 'interrupted');
      mkdirSync(dir);
      const cli = startCli(['build', '--source', tree, '--build-dir', dir, '--kunitconfig', kunitconfig]);
      const log = join(dir, 'build.log');
      await waitFor(
        () => {
          try {
            return /^ {2}CC {6}\S+\.o$/m.test(readFileSync(log, 'utf8'));
          } catch {
            return false;
          }
        },
        { timeoutMs: 10 * MINUTE, everyMs: 200, what: 'the first compiled object' },
      );
      cli.child.kill('SIGINT');
      const r = await cli.done;
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toContain('build interrupted');
      // make, cc1 and the rest had this directory (the tree, the build dir) on their command lines: none is left.
      await waitFor(() => processesWith(work).length === 0, { timeoutMs: 10_000, what: 'no process of the build left' });
    },
    15 * MINUTE,
  );
});
