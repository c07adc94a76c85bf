/** dorny/test-reporter's verdict on a JUnit file, from its own (vendored) java-junit parser. */
import { JavaJunitParser } from './dorny/java-junit-parser.js';

export interface DornyView {
  /** `failure` when any test failed (main.ts: `isFailed = results.some(tr => tr.result === 'failed')`). */
  conclusion: 'success' | 'failure';
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
  /** The run's time in ms, as the action prints it (NaN when an element lacked `time`). */
  time: number;
  /** Every suite's and test's time, in ms. */
  times: number[];
  /** `suite/name` of every test, in order. */
  names: string[];
}

export async function dorny(xml: string): Promise<DornyView> {
  const parser = new JavaJunitParser({ parseErrors: true, trackedFiles: [] });
  const run = await parser.parse('junit.xml', xml);
  const times: number[] = [];
  const names: string[] = [];
  for (const s of run.suites) {
    times.push(s.time);
    for (const g of s.groups) {
      for (const t of g.tests) {
        times.push(t.time);
        names.push(`${s.name}/${t.name}`);
      }
    }
  }
  return {
    conclusion: run.result === 'failed' ? 'failure' : 'success',
    tests: run.tests, passed: run.passed, failed: run.failed, skipped: run.skipped, time: run.time, times, names,
  };
}
