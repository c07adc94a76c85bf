/**
 * Globs over test paths (runner/gate/test-path.ts), for known-failure files.
 *
 * Accepted syntax: `*` any run of characters (dots included, so
 * `rust_kunit_fixture.*` matches every test of the suite and
 * `*.example value *` every such parameter), `?` one character, `[abc]`,
 * `[a-z]` a class, `[!a-z]` or `[^a-z]` its complement, `\x` the character
 * `x` itself. The whole path must match. Pure.
 */

/** A glob that cannot be compiled; `column` is 1-based within the glob. */
export class GlobError extends Error {
  readonly column: number;
  constructor(message: string, column: number) {
    super(message);
    this.name = 'GlobError';
    this.column = column;
  }
}

const SPECIAL = /[.*+?^${}()|[\]\\/-]/g;
const escapeRe = (c: string): string => c.replace(SPECIAL, '\\$&');

/** Compile a glob to an anchored regular expression; throws {@link GlobError}. */
export function compileGlob(glob: string): RegExp {
  if (glob === '') throw new GlobError('an empty glob matches nothing', 1);
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '\\') {
      if (i + 1 >= glob.length) throw new GlobError('a trailing \\ escapes nothing', i + 1);
      re += escapeRe(glob[++i]!);
    } else if (c === '[') {
      const start = i;
      let j = i + 1;
      let negate = false;
      if (glob[j] === '!' || glob[j] === '^') {
        negate = true;
        j++;
      }
      let body = '';
      let first = true;
      for (; j < glob.length; j++) {
        const d = glob[j]!;
        if (d === ']' && !first) break;
        if (d === '\\' && j + 1 < glob.length) {
          body += escapeRe(glob[++j]!);
          first = false;
          continue;
        }
        if (d === '-' && !first && glob[j + 1] !== ']' && j + 1 < glob.length) {
          const lo = glob[j - 1]!;
          const hi = glob[j + 1]!;
          if (hi < lo) throw new GlobError(`range ${lo}-${hi} is backwards`, j + 1);
          body += '-';
        } else body += escapeRe(d);
        first = false;
      }
      if (j >= glob.length) throw new GlobError('[ without its closing ]', start + 1);
      re += `[${negate ? '^' : ''}${body}]`;
      i = j;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 's');
}

/** Does `path` match `glob`? (Compiles each call: compile once with {@link compileGlob} in loops.) */
export function globMatch(glob: string, path: string): boolean {
  return compileGlob(glob).test(path);
}
