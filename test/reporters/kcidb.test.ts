import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { KtapStream } from '../../runner/ktap/index.js';
import type { RunResult, TestNode } from '../../runner/ktap/model.js';
import { excerpt, kcidbPathPart, kcidbStatus, renderKcidb, LOG_EXCERPT_MAX } from '../../reporters/kcidb.js';
import { corpus, kernelFixture } from '../helpers/corpus.js';
import { kcidbErrors, runKcidbErrors } from '../helpers/kcidb.js';
import { applyGate } from '../../runner/gate/gate.js';
import { loadKnownFile } from '../../runner/gate/known.js';
import { jsonReporter } from '../../reporters/json.js';

interface Kcidb {
  checkouts: { id: string }[];
  builds: { id: string; checkout_id: string; architecture?: string }[];
  tests: { id: string; build_id: string; path: string; status: string; log_excerpt?: string; duration?: number }[];
}

function parse(path: string, metadata: Record<string, string> = {}): RunResult {
  const s = new KtapStream({ retain: true });
  s.write(readFileSync(path));
  const r = s.finish();
  Object.assign(r.metadata, metadata);
  return r;
}

const leaves = (r: RunResult): TestNode[] => {
  const out: TestNode[] = [];
  const walk = (n: TestNode): void => {
    if (n.children.length === 0) out.push(n);
    else n.children.forEach(walk);
  };
  for (const d of r.documents) d.tests.forEach(walk);
  return out;
};

describe('KCIDB over the whole corpus', () => {
  for (const log of corpus()) {
    test(log.name, () => {
      const result = parse(log.path, { source: log.path, arch: 'x86_64' });
      const out = JSON.parse(renderKcidb(result)) as Kcidb;
      expect(kcidbErrors(out)).toEqual([]);
      // One test per leaf, ids unique, every test on the one build.
      expect(out.tests).toHaveLength(leaves(result).length);
      expect(new Set(out.tests.map((t) => t.id)).size).toBe(out.tests.length);
      for (const t of out.tests) {
        expect(t.path.startsWith('kunit.exec.')).toBe(true);
        expect(t.build_id).toBe(out.builds[0]!.id);
        if (t.log_excerpt !== undefined) expect(Buffer.byteLength(t.log_excerpt)).toBeLessThanOrEqual(LOG_EXCERPT_MAX);
      }
      // Stable: the same results give the same ids.
      expect(renderKcidb(result)).toBe(renderKcidb(parse(log.path, { source: log.path, arch: 'x86_64' })));
    });
  }
});

describe('KCIDB pieces', () => {
  test('statuses', () => {
    expect(
      ['pass', 'xfail', 'fail', 'crashed', 'timeout', 'error', 'incomplete', 'not-run', 'skip', 'todo', 'no-tests'].map((s) =>
        kcidbStatus(s as never),
      ),
    ).toEqual(['PASS', 'PASS', 'FAIL', 'FAIL', 'ERROR', 'ERROR', 'ERROR', 'MISS', 'SKIP', 'SKIP', 'SKIP']);
  });
  test('path parts: invalid characters become _ (a dot too: it separates parts)', () => {
    expect(kcidbPathPart('example value 3')).toBe('example_value_3');
    expect(kcidbPathPart('a.b/c:d-e_f')).toBe('a_b_c_d-e_f');
    expect(kcidbPathPart('')).toBe('_');
  });
  test('log excerpts are cut to 16 KiB on a character boundary, NULs removed', () => {
    const long = 'é'.repeat(20000);
    const cut = excerpt(long);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(LOG_EXCERPT_MAX);
    expect(cut).not.toContain('\uFFFD');
    expect(cut.endsWith('[… cut to 16 KiB]')).toBe(true);
    expect(excerpt('a\u0000b')).toBe('ab');
  });
  test("origin and the CI's own ids: referred to, not written", () => {
    const result = parse(corpus()[0]!.path, { arch: 'arm64' });
    const out = JSON.parse(renderKcidb(result, { kcidbOrigin: 'my_lab', kcidbCheckoutId: 'ci:123', kcidbBuildId: '456' })) as Kcidb;
    expect(kcidbErrors(out)).toEqual([]);
    expect(out.checkouts).toEqual([]);
    expect(out.builds).toEqual([]);
    for (const t of out.tests) {
      expect(t.build_id).toBe('my_lab:456');
      expect(t.id.startsWith('my_lab:456.')).toBe(true);
    }
  });
});

describe('KCIDB and --known', () => {
  test('a known failure: the test says so, one issue for the entry, one incident for the test; valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-kcidb-'));
    const file = join(dir, 'known.yaml');
    writeFileSync(
      file,
      '- test: rust_kunit_fixture.rust_fixture_fail\n  status: failed\n  reason: fails on purpose\n  bug: https://bugs.example.org/1234\n',
    );
    const result = parse(kernelFixture('x86_64-rust-kunit', 'boot.log'), { arch: 'x86_64' });
    applyGate(result, { known: loadKnownFile(file), knownFile: file });
    const out = JSON.parse(renderKcidb(result)) as Kcidb & {
      issues: { id: string; report_url?: string }[];
      incidents: { issue_id: string; test_id: string }[];
    };
    expect(kcidbErrors(out)).toEqual([]);
    const t = out.tests.find((x) => x.path === 'kunit.exec.rust_kunit_fixture.rust_fixture_fail')! as Kcidb['tests'][number] & {
      comment?: string;
    };
    expect(t.status).toBe('FAIL');
    expect(t.comment).toBe('known failure: fails on purpose (https://bugs.example.org/1234)');
    expect(out.issues).toHaveLength(1);
    expect(out.issues[0]!.report_url).toBe('https://bugs.example.org/1234');
    expect(out.incidents).toEqual([expect.objectContaining({ issue_id: out.issues[0]!.id, test_id: t.id })]);
  });
});

test("every e2e run is checked: the helper renders and validates the KCIDB of a run's results.json", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-kcidb-'));
  const result = parse(corpus()[0]!.path, { arch: 'x86_64', kernelVersion: 'bad\u0000version' });
  writeFileSync(join(dir, 'results.json'), jsonReporter.render(result));
  expect(await runKcidbErrors(['run', '-o', dir], '/')).toEqual([]);
  expect(await runKcidbErrors(['parse', 'x.log'], '/')).toEqual([]);
  // An origin outside the schema's pattern would be caught.
  expect(kcidbErrors(JSON.parse(renderKcidb(result, { kcidbOrigin: 'Bad-Origin' })))).not.toEqual([]);
});
