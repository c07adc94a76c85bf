/**
 * GitHub Actions annotations (printed when `GITHUB_ACTIONS=true`): one
 * `::error file=…,line=…,title=…::message` per failing test that has a source
 * location, so the failure shows on the diff. Where the location comes from:
 * a Rust doctest's `# name.location: file:line` (the node's `location`), else
 * the first `ASSERTION FAILED at file:line`, `EXPECTATION FAILED at file:line`
 * or `try faulted: last line seen file:line` in the test's log (C and Rust
 * KUnit). At most {@link MAX_ANNOTATIONS}; one `::warning::` line counts the
 * rest. Which tests: with a gate, those failing it (known ones never); without,
 * every failing, timed-out, erroring or crashed leaf. Pure.
 */
import type { Location, RunResult, TestNode } from '../ktap/model.js';
import { BAD_STATUSES } from './compare.js';
import { leafTests } from './test-path.js';

export const MAX_ANNOTATIONS = 50;

const AT = /\b(?:(?:ASSERTION|EXPECTATION) FAILED at|last line seen) (\S+?):(\d+)\b/;

/** Where a failing test failed, when its output says. */
export function failureLocation(node: TestNode): Location | undefined {
  if (node.location) return node.location;
  for (const l of node.log) {
    const m = AT.exec(l);
    if (m) return { file: m[1]!, line: Number(m[2]) };
  }
  return undefined;
}

/** Workflow-command escaping: data escapes `%`, CR, LF; properties also `:` and `,`. */
const data = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const prop = (s: string): string => data(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** The annotation lines for a run (empty when nothing failed with a location). */
export function githubAnnotations(result: RunResult, max = MAX_ANNOTATIONS): string[] {
  const gate = result.gate;
  const wanted = gate ? new Set([...gate.failing, ...gate.incomplete].map((t) => t.path)) : undefined;
  const located: string[] = [];
  let unlocated = 0;
  for (const t of leafTests(result)) {
    if (t.node.known || !BAD_STATUSES.has(t.node.status)) continue;
    if (wanted && !wanted.has(t.path)) continue;
    const at = failureLocation(t.node);
    if (!at) {
      unlocated++;
      continue;
    }
    const first = t.node.log.find((l) => AT.test(l)) ?? t.node.crash?.reason ?? t.node.reason ?? t.node.status;
    const body = [first.trim(), ...t.node.log.filter((l) => l !== first).slice(0, 10)].join('\n');
    located.push(`::error file=${prop(at.file)},line=${at.line},title=${prop(`KUnit ${t.node.status}: ${t.path}`)}::${data(body)}`);
  }
  const out = located.slice(0, max);
  const rest = located.length - out.length;
  if (rest > 0)
    out.push(
      `::warning::${rest} more failing test${rest === 1 ? '' : 's'} with a source location not annotated (at most ${max}); all are in the reports`,
    );
  if (unlocated > 0 && out.length > 0)
    out.push(`::notice::${unlocated} failing test${unlocated === 1 ? '' : 's'} without a source location (see the reports)`);
  return out;
}
