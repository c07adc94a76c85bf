import { describe, expect, test } from 'vitest';
import { parsePreflight, preflightMetadata, preflightProblems } from '../../../runner/ssh/preflight.js';

/** The preflight's output on the v3 guest (abridged to three suites). */
const V3 = `@release 6.12.117
@machine x86_64
@version #1 Sat Nov 14 12:56:01 UTC 2026
@boot a40264d9-b004-4be9-a45c-6770924bfa9c
@taint 262272
@uid 0
@config no
@debugfs mounted
@kunit yes
@suite example
@suite kunit_fault
@suite list-kunit-test
@glob (null)
@devkmsg ratelimit
@have cat
@have sha256sum
@have insmod
@have rmmod
@have mktemp
@kmsg yes
`;

describe('preflight', () => {
  test('the v3 guest: everything there', () => {
    const p = parsePreflight(V3);
    expect(p).toMatchObject({
      release: '6.12.117',
      machine: 'x86_64',
      bootId: 'a40264d9-b004-4be9-a45c-6770924bfa9c',
      taint: 262272,
      uid: 0,
      debugfs: 'mounted',
      kunitDebugfs: true,
      suites: ['example', 'kunit_fault', 'list-kunit-test'],
      filterGlob: '(null)',
      kmsg: true,
    });
    expect(p.config).toBeUndefined();
    expect(preflightProblems(p, { reruns: true, modules: true })).toEqual([]);
    expect(preflightMetadata(p, [])).toMatchObject({
      targetRelease: '6.12.117',
      targetSuites: '3',
      targetKunitConfig: 'unknown (no /proc/config.gz)',
    });
  });

  test('each missing prerequisite is one line that says what it stops', () => {
    const p = parsePreflight(
      V3.replace('@debugfs mounted', '@debugfs no')
        .replace('@kunit yes', '@kunit no')
        .replace('@have insmod\n', '')
        .replace('@config no', '@config yes\n@cfg CONFIG_KUNIT=y\n@cfg CONFIG_MODULES=y')
        .replace('@uid 0', '@uid 1000'),
    );
    expect(p.config).toEqual({ CONFIG_KUNIT: 'y', CONFIG_MODULES: 'y' });
    expect(preflightProblems(p, { reruns: true, modules: true })).toEqual([
      'debugfs is not mounted and cannot be: the kernel lacks CONFIG_DEBUG_FS, so suites cannot be re-run (--filter, --repeat)',
      'the target has no insmod: test modules cannot be loaded (--modules)',
      "logged in as uid 1000, not root: KUnit's debugfs files and insmod need root",
    ]);
    // Without a config to tell why: KUNIT_DEBUGFS is named.
    const q = parsePreflight(V3.replace('@debugfs mounted', '@debugfs no'));
    expect(preflightProblems(q, { reruns: true, modules: false })).toEqual([
      'debugfs is not mounted and cannot be: KUnit re-runs need it at /sys/kernel/debug with CONFIG_KUNIT_DEBUGFS (--filter, --repeat)',
    ]);
    expect(preflightProblems(q, { reruns: false, modules: false })).toEqual([]);
    const r = parsePreflight(V3.replace('@kunit yes', '@kunit no'));
    expect(preflightProblems(r, { reruns: true, modules: false })[0]).toMatch(/CONFIG_KUNIT_DEBUGFS/);
  });
});
