/**
 * `--markdown FILE`: a short report for `$GITHUB_STEP_SUMMARY` and
 * merge-request comments. In order: the verdict, counts per architecture, the
 * gate's verdict and why, regressions, new failures, known failures (with bug
 * links), stale and expired known entries, flaky, fixed, missing, and the first
 * lines of each failure's log (folded). Every list stops at {@link MD_LIST_MAX}
 * entries, so the file stays far below GitHub's 1 MiB summary limit.
 *
 * A document's architecture is its merge group's `arch` (`merge` of several
 * architectures: `groups[origin.group]`), else its `arch` attribute, else the
 * run's `metadata.arch`, else `unknown`.
 */
import type { RunResult } from '../runner/ktap/model.js';
import { countLeaves, emptyCounts, flakyTests, type Counts, type KtapDocument } from '../runner/ktap/model.js';
import { BAD_STATUSES, type ComparedTest } from '../runner/gate/compare.js';
import type { KnownMark } from '../runner/gate/outcome.js';
import { leafTests, type PathedTest } from '../runner/gate/test-path.js';
import { gateReason } from './gate-summary.js';
import type { FileReporter } from './types.js';
import { catalogEntry } from './catalog.js';

export const MD_LIST_MAX = 50;
const LOG_LINES = 8;

const ICON: Record<string, string> = { passed: '✅', failed: '❌', incomplete: '⚠️', 'no-tests': '⚠️', 'no-ktap': '⚠️' };

/** Inline code that survives any name (backticks inside, leading/trailing spaces). */
export function code(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = fence.length > 1 || text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\r?\n/g, ' ')}${pad}${fence}`;
}

/** Plain text in a table cell or list item: no HTML, no Markdown markup, no pipes or line breaks. */
function text(s: string): string {
  return s.replace(/\r?\n/g, ' ').replace(/([\\`*_{}[\]<>()#+!|~])/g, '\\$1');
}

/** Text inside an HTML element (a `<summary>`), where Markdown escapes would show. */
const html = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');

function bug(k: KnownMark): string {
  if (k.bug === undefined) return '';
  return /^https?:\/\/\S+$/.test(k.bug) ? ` ([bug](${k.bug.replace(/\)/g, '%29')}))` : ` (bug ${text(k.bug)})`;
}

function section(out: string[], title: string, items: string[]): void {
  if (items.length === 0) return;
  out.push('', `### ${title} (${items.length})`, '');
  for (const i of items.slice(0, MD_LIST_MAX)) out.push(`- ${i}`);
  if (items.length > MD_LIST_MAX) out.push(`- … ${items.length - MD_LIST_MAX} more (all in the JSON report)`);
}

/** A merge's groups (`merge` of several architectures), read structurally so this file needs no merge types. */
type Grouped = { groups?: ReadonlyArray<{ arch?: string }> };
const archOf = (result: RunResult, doc: KtapDocument): string =>
  (result as Grouped).groups?.[(doc.origin as { group?: number } | undefined)?.group ?? -1]?.arch ??
  doc.attributes['arch'] ??
  result.metadata['arch'] ??
  'unknown';

function countsTable(result: RunResult, leaves: PathedTest[], out: string[]): void {
  const byArch = new Map<string, { counts: Counts; known: number }>();
  for (const doc of result.documents) {
    const arch = archOf(result, doc);
    const row = byArch.get(arch) ?? { counts: emptyCounts(), known: 0 };
    for (const t of doc.tests) countLeaves(t, row.counts);
    byArch.set(arch, row);
  }
  for (const t of leaves) {
    if (!t.node.known) continue;
    const row = byArch.get(archOf(result, result.documents[t.document]!));
    if (row) row.known++;
  }
  out.push(
    '',
    '| arch | tests | passed | failed | crashed | timed out | errors | incomplete | not run | skipped | known |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [arch, { counts: c, known }] of byArch) {
    out.push(
      `| ${text(arch)} | ${c.total} | ${c.passed + c.xfail} | ${c.failed} | ${c.crashed} | ${c.timeout} | ${c.errors} | ${c.incomplete} | ${c.notRun} | ${c.skipped + c.todo} | ${known} |`,
    );
  }
}

function fenced(lines: string[]): string[] {
  const runs = lines.join('\n').match(/`{3,}/g) ?? [];
  const fence = '`'.repeat(Math.max(2, ...runs.map((r) => r.length)) + 1);
  return [fence, ...lines.map((l) => l.replace(/\r/g, '')), fence];
}

function render(result: RunResult): string {
  const g = result.gate;
  const out: string[] = [`## kunit-bridge: ${ICON[result.verdict] ?? ''} ${result.verdict}`];
  const leaves = leafTests(result);
  countsTable(result, leaves, out);
  if (g) {
    const why = gateReason(g);
    out.push('', `**Gate:** ${g.verdict}${why ? ` (${text(why)})` : ''}; the tests alone: ${g.testVerdict}.`);
    const c = g.comparison;
    const change = (t: ComparedTest): string => `${code(t.path)}: ${t.before ?? 'absent'} → ${t.now ?? 'absent'}`;
    if (c) {
      section(out, 'Regressions', c.regressions.map(change));
      section(
        out,
        'New failures',
        c.newFailures.map((t) => `${code(t.path)}: ${t.now}`),
      );
    } else {
      section(
        out,
        'Failures',
        g.failing.map((t) => `${code(t.path)}: ${t.status}`),
      );
    }
    section(
      out,
      'Crashed or unfinished',
      g.incomplete.map((t) => `${code(t.path)}: ${t.status}`),
    );
    section(
      out,
      'Known failures',
      g.known.map(
        (k) =>
          `${code(k.path)}: ${k.status}, ${k.known.reason !== undefined ? text(k.known.reason) : `entry ${code(k.known.test)}`}${bug(k.known)}`,
      ),
    );
    section(
      out,
      'Stale known entries',
      g.stale.map((s) => `${code(s.test)} (${text(s.entry)}): ${text(s.why)}`),
    );
    section(
      out,
      'Expired known entries',
      g.expired.map((e) => `${code(e.test)} (${text(e.entry)}), until ${e.until}`),
    );
    if (c) {
      section(
        out,
        'Flaky',
        c.flaky.map((t) => code(t.path)),
      );
      section(out, 'Fixed', c.fixed.map(change));
      section(
        out,
        'Missing',
        c.missing.map((t) => `${code(t.path)}: ${text(t.why ?? 'absent')}`),
      );
      if (c.stillFailing.length) out.push('', `Still failing: ${c.stillFailing.length}. New tests: ${c.newTests.length}.`);
    }
  }
  // Flaky tests (`run --repeat`) are a bucket of the comparison; without one, the tree says which.
  if (!g?.comparison)
    section(
      out,
      'Flaky',
      flakyTests(result).map((f) => text(f)),
    );
  const failures = leaves.filter((t) => BAD_STATUSES.has(t.node.status));
  if (failures.length > 0) {
    out.push('', '### Failure logs', '');
    for (const t of failures.slice(0, MD_LIST_MAX)) {
      const lines = [...t.node.log, ...(t.node.crash ? [t.node.crash.reason] : [])].slice(0, LOG_LINES);
      out.push(
        `<details><summary><code>${html(t.path)}</code>: ${t.node.status}${t.node.known ? ' (known)' : ''}</summary>`,
        '',
        ...fenced(lines.length ? lines : ['(no log)']),
        '',
        '</details>',
      );
    }
    if (failures.length > MD_LIST_MAX) out.push('', `… ${failures.length - MD_LIST_MAX} more failures (all in the reports)`);
  }
  return `${out.join('\n')}\n`;
}

/** Markdown for CI summaries (`$GITHUB_STEP_SUMMARY`, merge-request comments). */
export const markdownReporter: FileReporter = {
  ...catalogEntry('markdown'),
  render,
};
