import { describe, expect, test } from 'vitest';
import { allTests, leafTests, testPath } from '../../../runner/gate/test-path.js';
import type { KtapDocument, TestNode } from '../../../runner/ktap/model.js';

const node = (name: string, children: TestNode[] = [], status: TestNode['status'] = 'pass'): TestNode => ({
  name,
  status,
  log: [],
  children,
  attributes: {},
  line: 1,
});
const doc = (index: number, tests: TestNode[]): KtapDocument => ({
  index,
  tests,
  log: [],
  complete: true,
  startLine: 1,
  endLine: 1,
  attributes: {},
});

describe('test paths', () => {
  test('names joined with dots, spaces and dots inside names kept as printed', () => {
    expect(testPath(['example', 'example_params_test', 'example value 3'])).toBe('example.example_params_test.example value 3');
    expect(testPath(['s', 'v1.2'])).toBe('s.v1.2');
  });

  test('every test in log order, parents first, leaves marked', () => {
    const r = { documents: [doc(0, [node('example', [node('simple'), node('params', [node('example value 3')])])])] };
    expect(allTests(r).map((t) => [t.path, t.leaf])).toEqual([
      ['example', false],
      ['example.simple', true],
      ['example.params', false],
      ['example.params.example value 3', true],
    ]);
    expect(leafTests(r).map((t) => t.path)).toEqual(['example.simple', 'example.params.example value 3']);
  });

  test('a suite again in a later document gets #2, its tests too', () => {
    const r = { documents: [doc(0, [node('s', [node('t')])]), doc(1, [node('s', [node('t')])])] };
    expect(leafTests(r).map((t) => [t.path, t.document])).toEqual([
      ['s.t', 0],
      ['s.t #2', 1],
    ]);
  });
});
