/** xmllint, for schema validation and XPath checks of JUnit output. */
import { execFileSync } from 'node:child_process';

/** Run xmllint; a missing xmllint throws (ENOENT) and so fails the test, never skips it. */
export function xmllint(args: string[]): { ok: boolean; output: string } {
  try {
    const out = execFileSync('xmllint', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, output: out };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number; stderr?: string };
    if (err.code === 'ENOENT') throw new Error('xmllint is required (Debian: libxml2-utils)');
    return { ok: false, output: String(err.stderr ?? err.message) };
  }
}

export function validate(file: string, schema: string): { ok: boolean; output: string } {
  return xmllint(['--noout', '--schema', schema, file]);
}

/** Evaluate an XPath expression that yields a string or number. */
export function xpath(file: string, expr: string): string {
  const r = xmllint(['--xpath', expr, file]);
  if (!r.ok) throw new Error(`xpath ${expr} failed: ${r.output}`);
  return r.output.replace(/\n$/, ''); // xmllint ends its answer with a newline
}
