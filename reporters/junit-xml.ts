/**
 * JUnit XML as text, written suite by suite: the same bytes that
 * junit-report-builder (xmlbuilder 15, `pretty`) writes for the same suites
 * and cases, without holding the document in memory. reporters/junit.ts
 * decides what the elements say; test/reporters/junit-stream.test.ts checks
 * the two byte for byte on the whole corpus. Every text that comes here is
 * already cleaned of what XML 1.0 does not allow (`cleanXmlText`).
 */

/** One `<testcase>`. */
export interface CaseXml {
  classname: string;
  name: string;
  time: number;
  kind: 'pass' | 'failure' | 'error' | 'skipped';
  /** `message` attribute of `<failure>`/`<error>` (none when empty). */
  message?: string;
  type?: string;
  /** `--junit-locations`. */
  file?: string;
  line?: number;
  /** Text of the `<failure>`/`<error>`/`<skipped>` element ('' for none). */
  body: string;
  /** `<system-out>` ('' for none). */
  out: string;
}

/** One `<testsuite>`: its own properties (the run's and the document's go in front of them). */
export interface SuiteXml {
  name: string;
  props: Array<[string, string]>;
  cases: CaseXml[];
  time: number;
  /** The document it belongs to; none for the run's own suite. */
  document?: number;
}

export interface Tally {
  tests: number;
  failures: number;
  errors: number;
}

const ATT_SPECIAL = /[&<"\t\n\r]/;
const TEXT_SPECIAL = /[&<>\r]/;

/** xmlbuilder's `attEscape`. */
function att(value: string): string {
  if (!ATT_SPECIAL.test(value)) return value;
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');
}

/** xmlbuilder's `textEscape`. */
function text(value: string): string {
  if (!TEXT_SPECIAL.test(value)) return value;
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

/** An element holding only a text (or nothing: self-closed), at `pad`. */
function leaf(pad: string, name: string, attrs: string, body: string): string {
  return body === '' ? `${pad}<${name}${attrs}/>\n` : `${pad}<${name}${attrs}>${text(body)}</${name}>\n`;
}

/** The `<property>` lines of some properties (inside `<properties>`). */
export function propertiesXml(props: ReadonlyArray<readonly [string, string]>): string {
  let out = '';
  for (const [name, value] of props) out += `      <property name="${att(name)}" value="${att(value)}"/>\n`;
  return out;
}

function caseXml(c: CaseXml): string {
  let attrs = ` classname="${att(c.classname)}" name="${att(c.name)}" time="${c.time}"`;
  if (c.file !== undefined) attrs += ` file="${att(c.file)}"`;
  if (c.line !== undefined) attrs += ` line="${c.line}"`;
  let inner = '';
  if (c.kind === 'failure' || c.kind === 'error') {
    const message = c.message ? ` message="${att(c.message)}"` : '';
    const type = c.type ? ` type="${att(c.type)}"` : '';
    inner += leaf('      ', c.kind, message + type, c.body);
  } else if (c.kind === 'skipped') {
    inner += leaf('      ', 'skipped', '', c.body);
  }
  if (c.out !== '') inner += leaf('      ', 'system-out', '', c.out);
  return inner === '' ? `    <testcase${attrs}/>\n` : `    <testcase${attrs}>\n${inner}    </testcase>\n`;
}

/**
 * A suite's text, cut where its properties begin (right after `<properties>`),
 * so more can go in there later; `extra` properties go first. Adds its counts to `tally`.
 */
export function suiteXml(s: SuiteXml, extra: ReadonlyArray<readonly [string, string]>, tally: Tally): [string, string] {
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  let cases = '';
  for (const c of s.cases) {
    if (c.kind === 'failure') failures++;
    else if (c.kind === 'error') errors++;
    else if (c.kind === 'skipped') skipped++;
    cases += caseXml(c);
  }
  tally.tests += s.cases.length;
  tally.failures += failures;
  tally.errors += errors;
  const open = `  <testsuite name="${att(s.name)}" time="${s.time}" tests="${s.cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}"`;
  const hasProps = s.props.length > 0 || extra.length > 0;
  if (!hasProps && cases === '') return [`${open}/>\n`, ''];
  if (!hasProps) return [`${open}>\n${cases}  </testsuite>\n`, ''];
  return [`${open}>\n    <properties>\n${propertiesXml(extra)}`, `${propertiesXml(s.props)}    </properties>\n${cases}  </testsuite>\n`];
}

/** The declaration and the root's opening tag (the builder's, with `time` where it writes `skipped`). */
export function rootXml(name: string, tally: Tally, time: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${att(name)}" tests="${tally.tests}" failures="${tally.failures}" errors="${tally.errors}" time="${time}">\n`;
}
