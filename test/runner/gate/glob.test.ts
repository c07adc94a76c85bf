import { describe, expect, test } from 'vitest';
import { compileGlob, globMatch, GlobError } from '../../../runner/gate/glob.js';

describe('glob over test paths', () => {
  test.each([
    ['rust_kunit_fixture.rust_fixture_fail', 'rust_kunit_fixture.rust_fixture_fail', true],
    ['rust_kunit_fixture.*', 'rust_kunit_fixture.rust_fixture_fail', true],
    ['rust_kunit_fixture.*', 'rust_kunit_fixture', false],
    ['*', 'a.b.c', true],
    ['*.example value *', 'example.example_params_test.example value 3', true],
    ['example.t?st', 'example.test', true],
    ['example.t?st', 'example.tst', false],
    ['example.t?st', 'example.teest', false],
    ['s.[abc]', 's.b', true],
    ['s.[abc]', 's.d', false],
    ['s.[a-c]x', 's.bx', true],
    ['s.[!a-c]x', 's.bx', false],
    ['s.[!a-c]x', 's.dx', true],
    ['s.[^a-c]x', 's.dx', true],
    ['s.[]]', 's.]', true],
    ['s.[a-]', 's.-', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a.b', 'aXb', false], // the dot is literal
    ['a+b(c)|d$', 'a+b(c)|d$', true],
    ['kunit-try-catch-test.*', 'kunit-try-catch-test.kunit_test_try_catch_successful_try_no_catch', true],
    ['x', 'xx', false], // the whole path must match
  ])('%s ~ %s → %s', (glob, path, want) => {
    expect(globMatch(glob, path)).toBe(want);
  });

  test.each([
    ['s.[abc', '[ without its closing ]', 3],
    ['', 'an empty glob matches nothing', 1],
    ['a\\', 'a trailing \\ escapes nothing', 2],
    ['s.[z-a]', 'range z-a is backwards', 5],
  ])('%j is refused: %s', (glob, message, column) => {
    let err: unknown;
    try {
      compileGlob(glob);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GlobError);
    expect((err as GlobError).message).toBe(message);
    expect((err as GlobError).column).toBe(column);
  });
});
