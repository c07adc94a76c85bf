/**
 * The gate's part of the console summary (`--known`, `--baseline`), printed
 * after `Testing complete. …` by parse, run, watch and compare:
 *
 *     Known failures (do not fail the run): rust_kunit_fixture.rust_fixture_fail (fail: fails on purpose https://bugs.example.org/1)
 *     Stale known entries: known.yaml:7 "example.*" (matching tests did not fail: …)
 *     Regressions: kunit_bridge_fixture.oops_test (skip → fail)
 *     Gate: failed (1 regression); the tests alone: failed
 *
 * Long lists show their first {@link LIST_MAX} entries. Pure.
 */
import type { ComparedTest } from '../runner/gate/compare.js';
import { knownLabel, type GateOutcome } from '../runner/gate/outcome.js';
import { allTests } from '../runner/gate/test-path.js';
import type { RunResult } from '../runner/ktap/model.js';

export const LIST_MAX = 20;

function list(label: string, items: string[]): string[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, LIST_MAX).join(', ');
  const more = items.length > LIST_MAX ? `, … ${items.length - LIST_MAX} more (all in the reports)` : '';
  return [`${label} (${items.length}): ${shown}${more}`];
}

const change = (c: ComparedTest): string => `${c.path} (${c.before ?? 'absent'} → ${c.now ?? 'absent'})`;
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * A summary's `Failures:` list without the known failures (`--known`): they are
 * listed as known instead, so no line calls them failures while the run passes.
 */
export function unknownFailures(failures: readonly string[], result: RunResult): string[] {
  if (!result.gate) return [...failures];
  const known = new Set(
    allTests(result)
      .filter((t) => t.node.known)
      .map((t) => t.base),
  );
  return failures.filter((f) => !known.has(f));
}

/** What failed the gate, or why it passed, in a few words. */
export function gateReason(g: GateOutcome): string {
  const parts: string[] = [];
  const c = g.comparison;
  if (c) {
    if (c.regressions.length) parts.push(plural(c.regressions.length, 'regression'));
    if (c.newFailures.length) parts.push(plural(c.newFailures.length, 'new failure'));
    const missing = c.missing.filter((m) => !m.excluded).length;
    if (missing) parts.push(plural(missing, 'missing test'));
  } else if (g.failing.length) parts.push(plural(g.failing.length, 'failing test'));
  if (g.incomplete.length) parts.push(plural(g.incomplete.length, 'crashed or unfinished test'));
  if (g.strictKnown && g.stale.length) parts.push(plural(g.stale.length, 'stale known entry', 'stale known entries'));
  if (g.known.length) parts.push(plural(g.known.length, 'known failure'));
  return parts.join(', ');
}

/** The lines; empty when nothing is to be said beyond the verdict. */
export function gateLines(g: GateOutcome): string[] {
  const out: string[] = [];
  out.push(
    ...list(
      'Known failures (do not fail the run)',
      g.known.map((k) => `${k.path} (${k.status}: ${knownLabel(k.known)})`),
    ),
  );
  out.push(
    ...list(
      `Stale known entries${g.strictKnown ? ' (fail the run: --strict-known)' : ''}`,
      g.stale.map((s) => `${s.entry} "${s.test}" (${s.why})`),
    ),
  );
  out.push(
    ...list(
      'Expired known entries (no longer apply)',
      g.expired.map((e) => `${e.entry} "${e.test}" until ${e.until}`),
    ),
  );
  const c = g.comparison;
  if (c) {
    out.push(...list('Regressions', c.regressions.map(change)));
    out.push(
      ...list(
        'New failures',
        c.newFailures.map((t) => `${t.path} (${t.now})`),
      ),
    );
    out.push(...list('Fixed', c.fixed.map(change)));
    out.push(
      ...list(
        'Still failing',
        c.stillFailing.map((t) => `${t.path} (${t.now})`),
      ),
    );
    out.push(
      ...list(
        'New tests',
        c.newTests.map((t) => t.path),
      ),
    );
    out.push(
      ...list(
        'Missing tests',
        c.missing.map((t) => `${t.path} (${t.why ?? 'absent'})`),
      ),
    );
    out.push(
      ...list(
        'Flaky',
        c.flaky.map((t) => t.path),
      ),
    );
  }
  const why = gateReason(g);
  out.push(`Gate: ${g.verdict}${why ? ` (${why})` : ''}; the tests alone: ${g.testVerdict}`);
  return out;
}
