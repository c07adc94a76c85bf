/**
 * `--kcidb FILE`: KernelCI's submission format, KCIDB schema v5.3
 * (kernelci/kcidb-io), for `kcidb-submit` (docs/kcidb.md).
 *
 * One checkout, one build per architecture × kernel group, one test per leaf
 * (case, or parameter) with path `kunit.exec.<suite>.<test>[.<param>]`, each
 * part made valid the way KernelCI does it (characters outside
 * `[a-zA-Z0-9_-]` become `_`). Ids derive from the run (kernel image hash,
 * start time, source, arch) and the test's path, so submitting the same
 * results again updates the same objects. `--kcidb-checkout-id` /
 * `--kcidb-build-id` join objects a CI submitted itself: those are referred
 * to, not written.
 */
import { createHash } from 'node:crypto';
import type { RunResult, TestNode, TestStatus } from '../runner/ktap/model.js';
import type { FileReporter, ReportOptions } from './types.js';
import { leafTests } from '../runner/gate/test-path.js';
import type { KnownMark } from '../runner/gate/outcome.js';
import { catalogEntry } from './catalog.js';

/** `log_excerpt` limit of the schema (16 KiB); we cut at as many UTF-8 bytes. */
export const LOG_EXCERPT_MAX = 16384;
export const DEFAULT_ORIGIN = 'kunit_bridge';
export const ORIGIN_PATTERN = /^[a-z0-9_]+$/;

/** KCIDB test status for a KTAP status. */
export function kcidbStatus(status: TestStatus): 'PASS' | 'FAIL' | 'ERROR' | 'MISS' | 'SKIP' {
  switch (status) {
    case 'pass':
    case 'xfail':
      return 'PASS';
    case 'fail':
    case 'crashed':
      return 'FAIL';
    case 'timeout':
    case 'error':
    case 'incomplete':
      return 'ERROR';
    case 'not-run':
      return 'MISS';
    case 'skip':
    case 'todo':
    case 'no-tests':
      return 'SKIP';
  }
}

/** One path component as KernelCI writes it. */
export function kcidbPathPart(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_-]/g, '_');
  return s === '' ? '_' : s;
}

const sha = (...parts: string[]): string => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 20);

/** The schema forbids NUL in every string. */
const noNul = (s: string): string => s.replaceAll('\u0000', '');

/** At most `max` UTF-8 bytes of `text`, without NULs, cut on a character boundary. */
export function excerpt(text: string, max = LOG_EXCERPT_MAX): string {
  const clean = noNul(text);
  const buf = Buffer.from(clean, 'utf8');
  if (buf.length <= max) return clean;
  const marker = '\n[… cut to 16 KiB]';
  let end = max - Buffer.byteLength(marker);
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8') + marker;
}

/** An absolute http(s) URL, as the schema's `uri` format wants, else undefined. */
function uri(s: string | undefined): string | undefined {
  if (!s) return undefined;
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/** The KCIDB issue of a known entry: its id hangs on the entry's glob, reason and bug, not on where it sits in the file. */
function knownIssue(k: KnownMark, origin: string): Record<string, unknown> {
  const url = uri(k.bug);
  return {
    id: `${origin}:known-${sha(k.test, k.reason ?? '', k.bug ?? '')}`,
    version: 1,
    origin,
    report_subject: noNul(`known failure: ${k.test}`),
    ...(k.reason ? { comment: noNul(k.reason) } : {}),
    ...(url ? { report_url: url } : {}),
    culprit: { code: true },
    misc: { entry: k.entry, status: k.status, ...(k.bug && !url ? { bug: k.bug } : {}), ...(k.until ? { until: k.until } : {}) },
  };
}

function logOf(node: TestNode): string {
  const lines = [...node.log];
  if (node.reason) lines.push(`# ${node.status}: ${node.reason}`);
  if (node.crash) lines.push(node.crash.reason, ...node.crash.trace);
  return lines.join('\n');
}

interface GroupView {
  arch?: string;
  metadata: Record<string, string>;
  kernelHash?: string;
}

function localId(id: string, origin: string): string {
  return /^[a-z0-9_]+:/.test(id) ? id : `${origin}:${id}`;
}

export function renderKcidb(result: RunResult, options: ReportOptions = {}): string {
  const origin = options.kcidbOrigin ?? DEFAULT_ORIGIN;
  const groups: GroupView[] = result.groups?.length
    ? result.groups.map((g) => ({ arch: g.arch, metadata: g.metadata, ...(g.kernelHash ? { kernelHash: g.kernelHash } : {}) }))
    : [
        {
          ...(result.metadata['arch'] ? { arch: result.metadata['arch'] } : {}),
          metadata: result.metadata,
          ...(result.metadata['kernelHash'] ? { kernelHash: result.metadata['kernelHash'] } : {}),
        },
      ];
  const runKey = (g: GroupView): string =>
    sha(g.kernelHash ?? '', g.metadata['started'] ?? '', g.metadata['source'] ?? '', g.arch ?? '', g.metadata['kernelVersion'] ?? '');
  const checkoutId =
    options.kcidbCheckoutId !== undefined ? localId(options.kcidbCheckoutId, origin) : `${origin}:checkout-${sha(...groups.map(runKey))}`;
  const checkouts: Record<string, unknown>[] = [];
  if (options.kcidbCheckoutId === undefined) {
    const versions = [...new Set(groups.map((g) => g.metadata['kernelVersion']).filter((v): v is string => !!v))];
    checkouts.push({
      id: checkoutId,
      origin,
      valid: true,
      ...(versions.length ? { comment: noNul(`Linux ${versions.join(', ')}`), misc: { kernel_version: versions.join(', ') } } : {}),
    });
  }
  const builds: Record<string, unknown>[] = [];
  const buildIds = groups.map((g) => {
    if (options.kcidbBuildId !== undefined) {
      const id = localId(options.kcidbBuildId, origin);
      return groups.length > 1 ? `${id}_${g.arch ?? 'unknown'}` : id;
    }
    return `${origin}:build-${runKey(g)}`;
  });
  groups.forEach((g, i) => {
    if (options.kcidbBuildId !== undefined && groups.length === 1) return;
    const m = g.metadata;
    const misc: Record<string, string> = {};
    if (g.kernelHash) misc['kernel_image_sha256'] = g.kernelHash;
    if (m['kernelVersion']) misc['kernel_version'] = m['kernelVersion'];
    if (m['kernel']) misc['kernel_image'] = m['kernel'];
    builds.push({
      id: buildIds[i],
      origin,
      checkout_id: checkoutId,
      status: 'PASS',
      ...(g.arch && /^[a-z0-9_]*$/.test(g.arch) ? { architecture: g.arch } : {}),
      ...(m['compiler'] ? { compiler: noNul(m['compiler']) } : {}),
      ...(Object.keys(misc).length ? { misc } : {}),
    });
  });
  // One line per test, written as it is made: a million-line log has 300,000 of them.
  const tests: string[] = [];
  // Known failures (`--known`): one issue per entry, one incident per test it covers.
  const issues = new Map<string, Record<string, unknown>>();
  const incidents: string[] = [];
  const used = new Map<string, number>();
  for (const { node: n, names, document } of leafTests(result)) {
    const gi = result.documents[document]?.origin?.group ?? 0;
    const g = groups[gi] ?? groups[0]!;
    const buildId = buildIds[gi] ?? buildIds[0]!;
    const started = g.metadata['started'] ? Date.parse(g.metadata['started']) : NaN;
    const env = g.metadata['accel'] ? { environment: { comment: `QEMU ${g.arch ?? ''} ${g.metadata['accel']}`.replace(/\s+/g, ' ') } } : {};
    const path = ['kunit', 'exec', ...names.map(kcidbPathPart)].join('.');
    const seen = used.get(`${buildId}\u0000${path}`) ?? 0;
    used.set(`${buildId}\u0000${path}`, seen + 1);
    const log = logOf(n);
    const id = `${buildId}.${path.slice('kunit.exec.'.length)}${seen ? `.${seen + 1}` : ''}`;
    if (n.known) {
      const issue = knownIssue(n.known, origin);
      issues.set(issue['id'] as string, issue);
      incidents.push(
        JSON.stringify({
          id: `${origin}:incident-${sha(id, issue['id'] as string)}`,
          origin,
          issue_id: issue['id'],
          issue_version: 1,
          test_id: id,
          build_id: buildId,
          present: true,
        }),
      );
    }
    tests.push(
      JSON.stringify({
        id,
        origin,
        build_id: buildId,
        path,
        status: kcidbStatus(n.status),
        ...(n.durationMs !== undefined ? { duration: n.durationMs / 1000 } : {}),
        ...(Number.isFinite(started) && n.startTime !== undefined
          ? { start_time: new Date(started + n.startTime * 1000).toISOString() }
          : {}),
        ...(log ? { log_excerpt: excerpt(log) } : {}),
        ...env,
        ...(n.known
          ? { comment: noNul(`known failure${n.known.reason ? `: ${n.known.reason}` : ''}${n.known.bug ? ` (${n.known.bug})` : ''}`) }
          : {}),
        misc: {
          kunit_status: n.status,
          ...(n.reason ? { reason: noNul(n.reason) } : {}),
          ...(n.known
            ? {
                known: {
                  entry: n.known.entry,
                  ...(n.known.reason ? { reason: n.known.reason } : {}),
                  ...(n.known.bug ? { bug: n.known.bug } : {}),
                },
              }
            : {}),
        },
      }),
    );
  }
  const head = (o: unknown): string => JSON.stringify(o);
  const known = issues.size ? `,\n"issues":${head([...issues.values()])},\n"incidents":[\n${incidents.join(',\n')}\n]` : '';
  return `{"version":{"major":5,"minor":3},\n"checkouts":${head(checkouts)},\n"builds":${head(builds)},\n"tests":[\n${tests.join(',\n')}\n]${known}}\n`;
}

export const kcidbReporter: FileReporter = {
  ...catalogEntry('kcidb'),
  render: renderKcidb,
};
