/**
 * The output of `kunit.action=list` / `list_attr` (Linux 6.12
 * lib/kunit/executor.c `kunit_exec_list_tests`). Pure.
 *
 * Accepted format (after the printk prefix):
 *
 *     KTAP version 1
 *     example
 *     # module: kunit_example_test
 *     example.example_simple_test
 *     # example_simple_test.speed: slow
 *     memcpy
 *     ...
 *
 * A suite line, then `suite.test` lines; with `list_attr`, `# attr: value`
 * lines after a suite and `# test.attr: value` after a test. Kernel messages
 * in between (they contain spaces; names do not) are ignored.
 */
import { stripPrintk } from './console-filter.js';

export interface ListedTest {
  name: string;
  attributes: Record<string, string>;
}

export interface ListedSuite {
  name: string;
  attributes: Record<string, string>;
  tests: ListedTest[];
}

const NAME = /^[\w\-:+/]+$/;

/** Parse the console output of a `kunit.action=list[_attr]` boot. */
export function parseTestList(text: string): ListedSuite[] {
  const suites: ListedSuite[] = [];
  let started = false;
  let current: ListedSuite | undefined;
  let lastTest: ListedTest | undefined;
  for (const rawLine of text.split('\n')) {
    const { body } = stripPrintk(rawLine.replace(/\r+$/, ''));
    const line = body.trim();
    if (!started) {
      started = /^K?TAP version \d+$/.test(line);
      continue;
    }
    if (line.startsWith('# ')) {
      const m = /^# (?:([\w\-:+/]+)\.)?([\w]+): (.*)$/.exec(line);
      if (!m || !current) continue;
      const [, test, key, value] = m as unknown as [string, string | undefined, string, string];
      if (test !== undefined && lastTest?.name === test) lastTest.attributes[key] = value;
      else if (test === undefined) (lastTest ?? current).attributes[key] = value;
      continue;
    }
    const dot = line.indexOf('.');
    if (dot === -1) {
      if (!NAME.test(line)) continue;
      current = { name: line, attributes: {}, tests: [] };
      lastTest = undefined;
      suites.push(current);
    } else {
      const suite = line.slice(0, dot);
      const test = line.slice(dot + 1);
      if (!current || current.name !== suite || !NAME.test(suite) || test === '') continue;
      lastTest = { name: test, attributes: {} };
      current.tests.push(lastTest);
    }
  }
  return suites;
}
