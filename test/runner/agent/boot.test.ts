import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  agentConfigGaps,
  agentFiles,
  agentInitArgs,
  findModules,
  GUEST_HOST_ADDRESS,
  kernelConfig,
  tokenBase,
} from '../../../runner/agent/boot.js';
import { BridgeError } from '../../../runner/errors.js';
import { tempDir } from '../../helpers/cli.js';
import { kernelFixture, REPO } from '../../helpers/corpus.js';

const config = (kernel: string): string => readFileSync(kernelFixture(kernel, 'config'), 'utf8');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const scratch = (): string => {
  const d = tempDir('kunit-bridge-boot-');
  dirs.push(d);
  return d;
};
const touch = (path: string, text = ''): string => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
};

describe('agentConfigGaps', () => {
  test('the v2 fixture kernel has all the agent needs', () => {
    expect(agentConfigGaps(config('x86_64-rust-kunit-v2'), 'x86_64', true)).toEqual([]);
  });

  test('the first x86_64 fixture kernel lacks DHCP, futexes, epoll, MSI…', () => {
    expect(agentConfigGaps(config('x86_64-rust-kunit'), 'x86_64', true)).toEqual([
      'CONFIG_IP_PNP',
      'CONFIG_IP_PNP_DHCP',
      'CONFIG_FUTEX',
      'CONFIG_EPOLL',
      'CONFIG_EVENTFD',
      'CONFIG_ADVISE_SYSCALLS',
      'CONFIG_PCI_MSI',
    ]);
  });

  test('the arm64 fixture kernel has no 9p and no network; MSI is asked of x86_64 only', () => {
    const gaps = agentConfigGaps(config('arm64-rust-kunit'), 'arm64', true);
    expect(gaps).toEqual(
      expect.arrayContaining(['CONFIG_NET_9P', 'CONFIG_NET_9P_VIRTIO', 'CONFIG_9P_FS', 'CONFIG_VIRTIO_NET', 'CONFIG_INET', 'CONFIG_FUTEX']),
    );
    expect(gaps).not.toContain('CONFIG_PCI_MSI');
    expect(gaps).not.toContain('CONFIG_MODULES');
  });

  test('CONFIG_MODULES is needed only when modules are to be loaded', () => {
    const all = config('x86_64-kunit-all');
    expect(agentConfigGaps(all, 'x86_64', true)).toContain('CONFIG_MODULES');
    expect(agentConfigGaps(all, 'x86_64', false)).not.toContain('CONFIG_MODULES');
  });

  test('only `=y` counts: `=m` and "is not set" are gaps', () => {
    const base = config('x86_64-rust-kunit-v2');
    expect(agentConfigGaps(base.replace(/^CONFIG_9P_FS=y$/m, 'CONFIG_9P_FS=m'), 'x86_64', false)).toEqual(['CONFIG_9P_FS']);
    expect(agentConfigGaps(base.replace(/^CONFIG_UNIX=y$/m, '# CONFIG_UNIX is not set'), 'x86_64', false)).toEqual(['CONFIG_UNIX']);
  });
});

describe('kernelConfig', () => {
  test('finds `config` beside the image', () => {
    expect(kernelConfig(kernelFixture('x86_64-rust-kunit-v2', 'bzImage'))).toBe(config('x86_64-rust-kunit-v2'));
  });

  test("`.config` beside the image comes first; a build tree's .config is found from arch/*/boot", () => {
    const d = scratch();
    touch(join(d, 'out/config'), 'CONFIG_B=y\n');
    touch(join(d, 'out/.config'), 'CONFIG_A=y\n');
    expect(kernelConfig(join(d, 'out/bzImage'))).toBe('CONFIG_A=y\n');
    touch(join(d, 'linux/.config'), 'CONFIG_TREE=y\n');
    expect(kernelConfig(join(d, 'linux/arch/x86/boot/bzImage'))).toBe('CONFIG_TREE=y\n');
  });

  test('none there, or a directory named config: undefined', () => {
    const d = scratch();
    mkdirSync(join(d, 'a/b/c/config'), { recursive: true });
    expect(kernelConfig(join(d, 'a/b/c/bzImage'))).toBeUndefined();
  });
});

describe('findModules', () => {
  const v2 = '../shared/fixtures/kernels/x86_64-rust-kunit-v2/modules';

  test("the v2 fixture kernel's 4 modules, sorted, as absolute paths", () => {
    expect(findModules([v2], REPO)).toEqual(
      ['cmdline_kunit.ko', 'list-test.ko', 'rust_kunit_fixture_mod.ko', 'rust_minimal.ko'].map((f) =>
        kernelFixture('x86_64-rust-kunit-v2', `modules/${f}`),
      ),
    );
  });

  test('directories are searched recursively for .ko and compressed modules; files are taken as given; each once', () => {
    const d = scratch();
    touch(join(d, 'mods/b.ko'));
    touch(join(d, 'mods/sub/a.ko.xz'));
    touch(join(d, 'mods/sub/c.ko.zst'));
    touch(join(d, 'mods/a.ko.gz'));
    touch(join(d, 'mods/notes.txt'));
    touch(join(d, 'mods/x.kobj'));
    touch(join(d, 'extra.ko'));
    expect(findModules(['extra.ko', 'mods', 'mods/b.ko'], d)).toEqual([
      join(d, 'extra.ko'),
      join(d, 'mods/a.ko.gz'),
      join(d, 'mods/b.ko'),
      join(d, 'mods/sub/a.ko.xz'),
      join(d, 'mods/sub/c.ko.zst'),
    ]);
  });

  test('a missing path, or a directory without modules, is a usage error (exit 2)', () => {
    const d = scratch();
    touch(join(d, 'empty/readme.txt'));
    for (const [spec, message] of [
      ['nope', /--modules nope: no such file or directory/],
      ['empty', /--modules empty: no kernel modules/],
    ] as const) {
      let err: unknown;
      try {
        findModules([spec], d);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BridgeError);
      expect(err).toMatchObject({ code: 'E_USAGE', exitCode: 2 });
      expect((err as Error).message).toMatch(message);
    }
  });
});

test("init's argv: the script, Node, the agent, and how to reach the runner", () => {
  expect(
    agentInitArgs({ init: '/pkg/agent/init.sh', main: '/pkg/dist/agent/main.js' }, '/usr/bin/node', 40123, '/tmp/kb/channel-1.token'),
  ).toEqual([
    '/pkg/agent/init.sh',
    '/usr/bin/node',
    '/pkg/dist/agent/main.js',
    '--host',
    GUEST_HOST_ADDRESS,
    '--port',
    '40123',
    '--token-file',
    '/tmp/kb/channel-1.token',
  ]);
  expect(GUEST_HOST_ADDRESS).toBe('10.0.2.2');
});

test('token files go in the temp directory, unless the guest cannot see it (under /run): then in the output directory', () => {
  expect(tokenBase('/tmp', '/work/out')).toBe('/tmp');
  expect(tokenBase('/var/tmp/x', '/work/out')).toBe('/var/tmp/x');
  expect(tokenBase('/run/user/1000', '/work/out')).toBe('/work/out');
  expect(tokenBase('/run', '/work/out')).toBe('/work/out');
  expect(tokenBase('/runner/tmp', '/work/out')).toBe('/runner/tmp');
});

test("the agent's files are found in this package, or their absence says to build", () => {
  let files: ReturnType<typeof agentFiles> | undefined;
  try {
    files = agentFiles();
  } catch (e) {
    expect(e).toMatchObject({ code: 'E_AGENT_FILES', exitCode: 4 });
    expect((e as Error).message).toContain('npm run build');
    return;
  }
  expect(files).toEqual({ init: join(REPO, 'agent/init.sh'), main: join(REPO, 'dist/agent/agent.cjs') });
});
