/**
 * The canonical path of a test, used by every gate feature (known files,
 * baselines, comparisons, Markdown, annotations) and by merge and KCIDB:
 * the names from the top-level suite down, joined with `.`, as
 * `kunit.filter_glob` writes `suite.test`.
 *
 *     example.example_simple_test
 *     example.example_params_test.example value 3      (a parameter: its name as printed)
 *     rust_doctests_kernel.rust_doctest_kernel_sync_arc_rs_0
 *
 * Names are used exactly as the kernel printed them: spaces stay, nothing
 * is escaped or quoted. A dot inside a name (a parameter named `v1.2`) is
 * kept too, so such a path cannot be split back into names unambiguously;
 * it is only ever compared whole, never split. The same path seen again in
 * a later KTAP document (a suite run again by a module load) gets ` #2`,
 * ` #3`, … in log order, as JUnit suite names do. Pure.
 */
import type { KtapDocument, RunResult, TestNode } from '../ktap/model.js';

/** Join names from the top-level suite down: `suite.test[.param]`. */
export function testPath(names: readonly string[]): string {
  return names.join('.');
}

/** One test with its canonical path. */
export interface PathedTest {
  /** Canonical path (see the module doc), ` #N` added for a repeat in a later document. */
  path: string;
  /** The path without ` #N`: `testPath(names)`. */
  base: string;
  /** The names from the top-level suite down, as printed. */
  names: string[];
  node: TestNode;
  /** 0-based document index. */
  document: number;
  /** A leaf (a case or parameter, or a suite with no cases). */
  leaf: boolean;
}

/**
 * Every test of a run, suites and parameterised parents included, in log
 * order (a parent before its children). Paths are unique within the run.
 */
export function allTests(result: Pick<RunResult, 'documents'>): PathedTest[] {
  const out: PathedTest[] = [];
  const seen = new Map<string, number>();
  const walk = (doc: KtapDocument, node: TestNode, names: string[], base: string): void => {
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    out.push({ path: n === 1 ? base : `${base} #${n}`, base, names, node, document: doc.index, leaf: node.children.length === 0 });
    for (const c of node.children) walk(doc, c, [...names, c.name], `${base}.${c.name}`);
  };
  for (const doc of result.documents) for (const t of doc.tests) walk(doc, t, [t.name], t.name);
  return out;
}

/** Leaf tests only (what counts count): cases, parameters, and suites without cases. */
export function leafTests(result: Pick<RunResult, 'documents'>): PathedTest[] {
  return allTests(result).filter((t) => t.leaf);
}
