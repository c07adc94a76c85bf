/**
 * GitLab's reading of a JUnit file, re-expressed rule for rule from its Ruby
 * (see README.md for the files and commits):
 *
 * 1. `Hash.from_xml` (Rails ActiveSupport): `XmlMini` collapses each element
 *    into a Hash of its attributes, its child elements (a repeated name
 *    becomes an Array) and its text under `__content__`; `XMLConverter` then
 *    turns `-` in keys into `_`, an element whose Hash has content into that
 *    content (typecast by a `type` attribute naming an XmlMini type; `symbol`
 *    and `yaml` are refused), an empty element into nil, and a one-element
 *    Array into its element.
 * 2. `Gitlab::Ci::Parsers::Test::Junit#parse!`: one top-level `testsuites`
 *    (or a bare `testsuite`), `testcase`s of every (nested) `testsuite`;
 *    `failure` → failed, `error` → error, `skipped` → skipped, else success;
 *    the case's `system_output` is the failure/error/skipped value (a Hash when
 *    the element had attributes but no text: shown as `{"message"=>…}`). Any
 *    exception → a suite error (the report shows nothing but the error).
 * 3. `Reports::TestCase`: `execution_time` is `time.to_f` (0.0 when absent);
 *    `key` = sha256 of `"#{suite_name}_#{classname}_#{name}"`.
 *    `Reports::TestSuite`: cases are kept per status by key (a second case with
 *    the same key replaces the first), `total_status` is failed when
 *    `failed_count > 0 || error_count > 0`, error on a suite error.
 */
import { parseStringPromise } from 'xml2js';

type Value = string | null | Hash | Value[];
interface Hash { [key: string]: Value }

const CONTENT = '__content__';
/** XmlMini::PARSING keys: a `type` attribute with one of these typecasts the element's content. */
export const PARSING = new Set(['symbol', 'date', 'datetime', 'integer', 'float', 'decimal', 'boolean', 'string', 'base64Binary', 'binary', 'file', 'yaml']);
/** XMLConverter::DISALLOWED_TYPES. */
const DISALLOWED = new Set(['symbol', 'yaml']);

/** XmlMini's `merge!`: a key seen again becomes an Array. */
function merge(hash: Hash, key: string, value: Value): void {
  if (key in hash) {
    const old = hash[key]!;
    if (Array.isArray(old)) old.push(value);
    else hash[key] = [old, value];
  } else {
    hash[key] = value;
  }
}

/** XmlMini's `collapse` of one element as xml2js gives it (string: text only; `$` attributes, `_` text). */
function collapse(el: unknown): Hash {
  const hash: Hash = {};
  if (typeof el === 'string') {
    if (el !== '') merge(hash, CONTENT, el);
    return hash;
  }
  const node = el as Record<string, unknown>;
  const attrs = (node['$'] ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(attrs)) hash[k] = v;
  const children = Object.keys(node).filter((k) => k !== '$' && k !== '_');
  for (const name of children) for (const child of node[name] as unknown[]) merge(hash, name, collapse(child));
  const text = typeof node['_'] === 'string' ? node['_'] : '';
  // With child elements, text counts only when not blank (`empty_content?`).
  if (text !== '' && (children.length === 0 || text.trim() !== '')) merge(hash, CONTENT, text);
  return hash;
}

/** XMLConverter#normalize_keys. */
function normalizeKeys(v: Value): Value {
  if (Array.isArray(v)) return v.map(normalizeKeys);
  if (v !== null && typeof v === 'object') {
    const out: Hash = {};
    for (const [k, x] of Object.entries(v)) out[k.replace(/-/g, '_')] = normalizeKeys(x);
    return out;
  }
  return v;
}

const present = (v: Value | undefined): boolean =>
  v !== undefined && v !== null && (typeof v === 'string' ? v.trim() !== '' : Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);

/** XMLConverter#deep_to_h. */
function deepToH(v: Value): Value {
  if (Array.isArray(v)) {
    const items = v.map(deepToH);
    return items.length > 1 ? items : items[0] ?? null;
  }
  if (v === null || typeof v === 'string') return v;
  const type = v['type'];
  if (typeof type === 'string' && DISALLOWED.has(type)) throw new Error(`Disallowed type attribute: "${type}"`);
  // (`type="array"`, become_array?, is not re-expressed: no JUnit element of ours has it.)
  if (type === 'array') throw new Error('type="array" is not re-expressed here');
  const content = v[CONTENT];
  if (type === 'file' || (content !== undefined && (Object.keys(v).length === 1 || present(content)))) {
    // process_content: a `type` naming an XmlMini type typecasts the text (ours never do: see the test).
    return content ?? null;
  }
  if (type === 'string' && v['nil'] !== 'true') return '';
  const nothing = !present(v) || v['nil'] === 'true';
  const garbage = typeof type === 'string' && Object.keys(v).length === 1;
  if (nothing || garbage) return null;
  const out: Hash = {};
  for (const [k, x] of Object.entries(v)) out[k] = deepToH(x);
  return out;
}

/** Rails' `Hash.from_xml`. */
export async function hashFromXml(xml: string): Promise<Hash> {
  const doc = (await parseStringPromise(xml)) as Record<string, unknown>;
  const [root, el] = Object.entries(doc)[0]!;
  return { [root]: deepToH(normalizeKeys(collapse(el))) };
}

export interface GitlabCase {
  suiteName: string;
  classname: string;
  name: string;
  status: 'success' | 'failed' | 'skipped' | 'error';
  executionTime: number;
  /** What GitLab shows as the case's output: must be text. */
  systemOutput: Value;
  key: string;
}

export interface GitlabView {
  suiteError?: string;
  totalStatus: 'success' | 'failed' | 'error';
  totalCount: number;
  counts: Record<GitlabCase['status'], number>;
  totalTime: number;
  cases: GitlabCase[];
}

const list = (v: Value | undefined): Value[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.flat(Infinity as 1) : [v]);
const str = (v: Value | undefined): string => (typeof v === 'string' ? v : '');
/** Ruby's String#to_f: the leading number, 0.0 when none. */
const toF = (v: Value | undefined): number => {
  const m = /^\s*[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?/.exec(str(v));
  return m ? Number(m[0]) : 0;
};

function createTestCase(data: Hash): GitlabCase {
  let status: GitlabCase['status'];
  let systemOutput: Value;
  if ('failure' in data) { status = 'failed'; systemOutput = data['failure']!; }
  else if ('error' in data) { status = 'error'; systemOutput = data['error']!; }
  else if ('skipped' in data) { status = 'skipped'; systemOutput = data['skipped']!; }
  else { status = 'success'; systemOutput = null; }
  const suiteName = str(data['suite_name']);
  const classname = str(data['classname']);
  const name = str(data['name']);
  return { suiteName, classname, name, status, executionTime: toF(data['time']), systemOutput, key: `${suiteName}_${classname}_${name}` };
}

/** `junit.rb`'s all_cases / each_case. */
function allCases(root: Value | undefined, parent: Value | undefined, yieldCase: (c: Hash) => void): void {
  if (!present(root)) return;
  for (const node of list(root)) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) continue;
    if (parent === undefined) allCases(node['testsuites'], node, yieldCase);
    if (parent !== undefined) {
      for (const tc of list(node['testcase'])) {
        if (tc === null || typeof tc !== 'object' || Array.isArray(tc)) continue;
        tc['suite_name'] = node['name'] ?? null;
        yieldCase(tc);
      }
    }
    allCases(node['testsuite'], node, yieldCase);
  }
}

/** Read a JUnit file as GitLab's test report does. */
export async function gitlab(xml: string): Promise<GitlabView> {
  const byStatus = new Map<GitlabCase['status'], Map<string, GitlabCase>>();
  const cases: GitlabCase[] = [];
  let suiteError: string | undefined;
  let totalTime = 0;
  try {
    allCases(await hashFromXml(xml), undefined, (data) => {
      const c = createTestCase(data);
      cases.push(c);
      const m = byStatus.get(c.status) ?? new Map<string, GitlabCase>();
      m.set(c.key, c);
      byStatus.set(c.status, m);
      totalTime += c.executionTime;
    });
  } catch (e) {
    suiteError = `JUnit data parsing failed: ${(e as Error).message}`;
  }
  const count = (s: GitlabCase['status']): number => (suiteError ? 0 : byStatus.get(s)?.size ?? 0);
  const counts = { success: count('success'), failed: count('failed'), skipped: count('skipped'), error: count('error') };
  const totalStatus = suiteError ? 'error' : counts.failed > 0 || counts.error > 0 ? 'failed' : 'success';
  const view: GitlabView = {
    totalStatus, counts, totalTime, cases,
    totalCount: suiteError ? 0 : counts.success + counts.failed + counts.skipped + counts.error,
  };
  if (suiteError) view.suiteError = suiteError;
  return view;
}
