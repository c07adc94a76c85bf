/**
 * The build options: the same on `build` and `run` (kunit.py's, kebab-case), the typed request they
 * make, and the usage errors (exit 2) before anything runs.
 */
import { Command } from 'commander';
import { expect, test } from 'vitest';
import { main } from '../../../runner/cli.js';
import { addBuildOptions, buildRequestOf, type BuildFlags } from '../../../runner/cli/build.js';
import { tempDir } from '../../helpers/cli.js';

const BUILD_OPTIONS = [
  '--source',
  '--build-dir',
  '--kunitconfig',
  '--kconfig-add',
  '--alltests',
  '--cross-compile',
  '--make-options',
  '--build-jobs',
  '--make-always',
];

function parse(argv: string[]): BuildFlags {
  const cmd = new Command().exitOverride();
  addBuildOptions(cmd, true);
  cmd.parse(argv, { from: 'user' });
  return cmd.opts<BuildFlags>();
}

test('the repeatable options collect, and make the request kunit.py would get', () => {
  const f = parse([
    '--kunitconfig',
    'a',
    '--kunitconfig',
    'lib/kunit',
    '--kconfig-add',
    'CONFIG_RUST=y',
    '--kconfig-add',
    '# CONFIG_MODULES is not set',
    '--make-options',
    'LLVM=1',
    '--build-jobs',
    '4',
    '--arch',
    'aarch64',
    '--alltests',
  ]);
  expect(buildRequestOf(f)).toEqual({
    source: undefined,
    buildDir: undefined,
    kunitconfigs: ['a', 'lib/kunit'],
    kconfigAdd: ['CONFIG_RUST=y', '# CONFIG_MODULES is not set'],
    alltests: true,
    arch: 'arm64',
    crossCompile: undefined,
    makeOptions: ['LLVM=1'],
    jobs: 4,
    makeAlways: false,
  });
});

test('bad values are one usage line', () => {
  expect(() => parse(['--kconfig-add', 'RUST=y'])).toThrow('--kconfig-add wants CONFIG_NAME=value, not "RUST=y"');
  expect(() => parse(['--build-jobs', '0'])).toThrow('--build-jobs must be a whole number >= 1');
  expect(() => parse(['--arch', 'sparc'])).toThrow('unknown --arch sparc');
});

test('build and run have the same build options; run --build with --kernel is a usage error (exit 2)', async () => {
  const { buildProgram } = await import('../../../runner/cli.js');
  const program = buildProgram(() => {});
  const longs = (name: string): string[] => program.commands.find((c) => c.name() === name)!.options.map((o) => o.long ?? '');
  expect(longs('build')).toEqual(expect.arrayContaining([...BUILD_OPTIONS, '--arch']));
  expect(longs('run')).toEqual(expect.arrayContaining([...BUILD_OPTIONS, '--build']));
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => stderr.push(s) > 0) as typeof process.stderr.write;
  try {
    expect(await main(['node', 'kunit-bridge', 'run', '--build', '--kernel', 'bzImage'])).toBe(2);
    expect(await main(['node', 'kunit-bridge', 'build', '--source', tempDir()])).toBe(2);
  } finally {
    process.stderr.write = write;
  }
  expect(stderr.join('')).toMatch(/--build builds the kernel it boots: leave out --kernel and --target/);
  expect(stderr.join('')).toMatch(/is not a kernel tree \(no Makefile and Kconfig at its top\)/);
});
