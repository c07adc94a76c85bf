/**
 * `run --shard K/N` as three CI machines (three processes, three caches) on
 * x86_64-kunit-all, then `merge`: the tree of one boot, every report, valid
 * KCIDB; a shard left out is named and makes the merge incomplete (exit 3).
 * And one report from runs on three architectures.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { JUNIT_SCHEMAS, kernelFixture } from '../helpers/corpus.js';
import { freshCache, runCli, tempDir } from '../helpers/cli.js';
import { kcidbErrors } from '../helpers/kcidb.js';
import { validate, xpath } from '../helpers/xmllint.js';
import { RUST_KUNIT, shape, suiteCounts, type Node } from './expected.js';

interface Json {
  verdict: string;
  counts: Record<string, number>;
  metadata: Record<string, string>;
  documents: { tests: Node[]; origin?: { group?: number; module?: string } }[];
  shard?: { index: number; total: number; kernelHash: string; expected: string[]; suites: string[] };
  groups?: { name: string; arch: string }[];
}
interface Kcidb {
  builds: { id: string; architecture?: string }[];
  tests: { build_id: string; path: string; status: string }[];
}
const read = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

test('three shards on three machines, merged, give the tree of one boot; one left out is named (exit 3)', async () => {
  const kernel = kernelFixture('x86_64-kunit-all', 'bzImage');
  const outs = [tempDir(), tempDir(), tempDir()];
  const caches = outs.map(() => freshCache());
  const single = tempDir();
  const runs = await Promise.all([
    ...outs.map((o, k) =>
      runCli(['run', '--kernel', kernel, '--accel', 'tcg', '--shard', `${k + 1}/3`, '-o', o, '-q', '--kcidb', join(o, 'kcidb.json')], {
        env: { KUNIT_BRIDGE_CACHE: caches[k] },
      }),
    ),
    runCli(['run', '--kernel', kernel, '--accel', 'tcg', '-j', '1', '-o', single, '-q'], { env: { KUNIT_BRIDGE_CACHE: freshCache() } }),
  ]);
  const outDirs = [...outs, single];
  runs.forEach((r, i) => {
    expect(r.code, `${outDirs[i]}: ${r.stderr}${readFileSync(join(outDirs[i]!, 'results.json'), 'utf8').slice(0, 600)}`).toBe(0);
  });
  const shards = outs.map((o) => read<Json>(join(o, 'results.json')));
  const one = read<Json>(join(single, 'results.json'));
  // Each records which shard of how many, of which kernel, and what it was meant to run.
  const hash = one.metadata['kernelHash'];
  expect(hash).toMatch(/^[0-9a-f]{64}$/);
  for (const [k, s] of shards.entries()) {
    expect(s.shard).toMatchObject({ index: k + 1, total: 3, kernelHash: hash });
    expect(s.shard!.expected.length).toBeGreaterThan(0);
    expect(s.documents[0]!.tests.map((t) => t.name)).toEqual(s.shard!.expected);
    expect(kcidbErrors(read(join(outs[k]!, 'kcidb.json')))).toEqual([]);
  }
  expect(shards.flatMap((s) => s.shard!.expected).sort()).toEqual(one.documents[0]!.tests.map((t) => t.name).sort());
  // `--list` with the shard: what shard 2 ran (its list is cached: no boot).
  const list = await runCli(['run', '--kernel', kernel, '--accel', 'tcg', '--shard', '2/3', '--list', '-o', tempDir()], {
    env: { KUNIT_BRIDGE_CACHE: caches[1] },
  });
  expect(list.code, list.stderr).toBe(0);
  expect([
    ...new Set(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('.')[0]),
    ),
  ]).toEqual(shards[1]!.shard!.expected);

  const m = tempDir();
  const files = ['junit.xml', 'results.tap', 'merged.json', 'kunit.json', 'kcidb.json'].map((f) => join(m, f));
  const merged = await runCli([
    'merge',
    ...outs,
    '--junit',
    files[0]!,
    '--tap',
    files[1]!,
    '--json',
    files[2]!,
    '--kunit-json',
    files[3]!,
    '--kcidb',
    files[4]!,
  ]);
  expect(merged.code, merged.stderr).toBe(0);
  for (const f of files) expect(existsSync(f), f).toBe(true);
  const json = read<Json>(files[2]!);
  expect(json.verdict).toBe('passed');
  expect(json.counts.total).toBe(one.counts.total!);
  // Single-boot order, the same tests and statuses.
  expect(json.documents[0]!.tests.map((t) => shape(t))).toEqual(one.documents[0]!.tests.map((t) => shape(t)));
  for (const schema of JUNIT_SCHEMAS) expect(validate(files[0]!, schema).ok).toBe(true);
  expect(Number(xpath(files[0]!, 'count(//testcase)'))).toBe(one.counts.total);
  expect(merged.stdout).toContain(`Ran ${one.counts.total} tests`);
  const kcidb = read<Kcidb>(files[4]!);
  expect(kcidbErrors(kcidb)).toEqual([]);
  expect(kcidb.tests).toHaveLength(one.counts.total!);

  // Shard 2 left out: its suites are not-run and named.
  const partial = await runCli(['merge', outs[0]!, outs[2]!, '--json', join(m, 'partial.json')]);
  expect(partial.code).toBe(3);
  const missing = shards[1]!.shard!.expected;
  expect(partial.stderr).toContain('shard 2/3 is missing');
  for (const s of missing) expect(partial.stderr).toContain(s);
  const p = read<Json>(join(m, 'partial.json'));
  expect(p.verdict).toBe('incomplete');
  for (const s of missing) expect(p.documents[0]!.tests.find((t) => t.name === s)?.status).toBe('not-run');

  // The same shard twice: refused, naming both files.
  const copy = tempDir();
  copyFileSync(join(outs[0]!, 'results.json'), join(copy, 'results.json'));
  const twice = await runCli(['merge', outs[0]!, copy, outs[1]!, outs[2]!]);
  expect(twice.code).toBe(2);
  expect(twice.stderr).toContain(join(outs[0]!, 'results.json'));
  expect(twice.stderr).toContain(join(copy, 'results.json'));
}, 600_000);

test('runs on x86_64, arm64 and riscv64: one report, three groups, valid JUnit and KCIDB', async () => {
  const runs = [
    ['x86_64', kernelFixture('x86_64-rust-kunit', 'bzImage')],
    ['arm64', kernelFixture('arm64-rust-kunit', 'Image')],
    ['riscv64', kernelFixture('riscv64-rust-kunit', 'Image')],
  ] as const;
  const outs = runs.map(() => tempDir());
  const results = await Promise.all(
    runs.map(([arch, kernel], i) => runCli(['run', '--kernel', kernel, '--arch', arch, '--accel', 'tcg', '-j', '1', '-o', outs[i]!, '-q'])),
  );
  // The Rust fixture fails on purpose.
  for (const r of results) expect(r.code, r.stderr).toBe(1);
  const m = tempDir();
  const merged = await runCli([
    'merge',
    ...outs,
    '--junit',
    join(m, 'junit.xml'),
    '--json',
    join(m, 'merged.json'),
    '--kcidb',
    join(m, 'kcidb.json'),
  ]);
  expect(merged.code, merged.stderr).toBe(1);
  const json = read<Json>(join(m, 'merged.json'));
  expect(json.groups!.map((g) => g.arch)).toEqual(['x86_64', 'arm64', 'riscv64']);
  for (const [gi] of runs.entries()) {
    const docs = json.documents.filter((d) => d.origin?.group === gi);
    expect(suiteCounts({ documents: docs })).toEqual(RUST_KUNIT);
  }
  const junit = join(m, 'junit.xml');
  for (const schema of JUNIT_SCHEMAS) expect(validate(junit, schema).ok).toBe(true);
  // Each arch: its 16 suites and example's parameterised case (a <testsuite> of its own), arch first.
  for (const [arch] of runs) {
    expect(Number(xpath(junit, `count(//testsuite[starts-with(@name, "${arch}.")])`))).toBe(RUST_KUNIT.length + 1);
    expect(Number(xpath(junit, `count(//testsuite[@name="${arch}.rust_kunit_fixture"]/testcase[failure])`))).toBe(1);
  }
  const kcidb = read<Kcidb>(join(m, 'kcidb.json'));
  expect(kcidbErrors(kcidb)).toEqual([]);
  expect(kcidb.builds.map((b) => b.architecture)).toEqual(['x86_64', 'arm64', 'riscv64']);
  const leaves = RUST_KUNIT.reduce((a, s) => a + s[1] + s[2] + s[3], 0);
  for (const b of kcidb.builds) expect(kcidb.tests.filter((t) => t.build_id === b.id).length).toBe(leaves);
}, 600_000);

test('--shard with the agent, --modules and --repeat 2: the modules are split too, and the merge is the whole run', async () => {
  const kernel = kernelFixture('x86_64-rust-kunit-v2', 'bzImage');
  const modules = kernelFixture('x86_64-rust-kunit-v2', 'modules');
  const outs = [tempDir(), tempDir()];
  const runs = await Promise.all(
    outs.map((o, k) =>
      runCli(['run', '--kernel', kernel, '--accel', 'tcg', '--modules', modules, '--repeat', '2', '--shard', `${k + 1}/2`, '-o', o, '-q'], {
        env: { KUNIT_BRIDGE_CACHE: freshCache() },
      }),
    ),
  );
  for (const r of runs) expect([0, 1], r.stderr).toContain(r.code);
  const shards = outs.map((o) => read<Json & { shard: { modules: string[][] } }>(join(o, 'results.json')));
  expect(shards[0]!.shard.modules).toEqual([
    ['cmdline_kunit.ko', 'list-test.ko'],
    ['rust_kunit_fixture_mod.ko', 'rust_minimal.ko'],
  ]);
  const m = tempDir();
  const merged = await runCli(['merge', ...outs, '--json', join(m, 'merged.json'), '--kcidb', join(m, 'kcidb.json')]);
  expect(merged.code, merged.stderr).toBe(1);
  const json = read<Json>(join(m, 'merged.json'));
  // As one lane with every module (test/e2e/run-agent.test.ts): 267 results, the modules in order
  // (rust_minimal.ko holds no tests: no document).
  expect(json.counts).toMatchObject({ total: 267, passed: 257, failed: 2, skipped: 8 });
  expect(json.documents.map((d) => d.origin?.module).filter(Boolean)).toEqual([
    'cmdline_kunit.ko',
    'list-test.ko',
    'rust_kunit_fixture_mod.ko',
  ]);
  // Each shard repeated its own suites: the fixture's failure failed both attempts.
  interface Repeated {
    name: string;
    attempts?: { status: string }[];
  }
  const rust = json.documents[0]!.tests.find((t) => t.name === 'rust_kunit_fixture')!.tests as Repeated[];
  expect(rust.find((t) => t.name === 'rust_fixture_fail')!.attempts!.map((a) => a.status)).toEqual(['fail', 'fail']);
  expect(kcidbErrors(read(join(m, 'kcidb.json')))).toEqual([]);
}, 300_000);

test('--shard with --filter suite.test: the shards select among every suite, keep the test part, and make the filtered run', async () => {
  const kernel = kernelFixture('x86_64-kunit-all', 'bzImage');
  const filter = 's*.test_*';
  const outs = [tempDir(), tempDir(), tempDir()];
  // A first CI run: the timings file does not exist yet (a warning, the guess); each shard saves its own.
  const runs = await Promise.all(
    outs.map((o, k) =>
      runCli(
        [
          'run',
          '--kernel',
          kernel,
          '--accel',
          'tcg',
          '--filter',
          filter,
          ...(k < 2
            ? ['--shard', `${k + 1}/2`, '--timings', join(o, 'none.json'), '--save-timings', join(o, 'timings.json')]
            : ['-j', '1']),
          '-o',
          o,
          '-q',
        ],
        { env: { KUNIT_BRIDGE_CACHE: freshCache() } },
      ),
    ),
  );
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
  for (const [k, r] of runs.slice(0, 2).entries()) {
    expect(r.stderr).toContain('no such file yet; balancing the shards with the built-in guess');
    const saved = read<{ kunitBridgeTimings: number; suites: Record<string, number> }>(join(outs[k]!, 'timings.json'));
    expect(saved.kunitBridgeTimings).toBe(1);
    expect(Object.keys(saved.suites).sort()).toEqual(read<Json>(join(outs[k]!, 'results.json')).shard!.expected.sort());
  }
  const m = tempDir();
  const merged = await runCli(['merge', outs[0]!, outs[1]!, '--json', join(m, 'merged.json')]);
  expect(merged.code, merged.stderr).toBe(0);
  const json = read<Json>(join(m, 'merged.json'));
  const one = read<Json>(join(outs[2]!, 'results.json'));
  expect(json.documents[0]!.tests.map((t) => shape(t))).toEqual(one.documents[0]!.tests.map((t) => shape(t)));
  for (const o of outs.slice(0, 2)) {
    const lanes = readFileSync(join(o, 'console-lane-01.log'), 'utf8');
    expect(lanes).toMatch(/kunit\.filter_glob=s\S*\.test_\*/);
  }
}, 600_000);
