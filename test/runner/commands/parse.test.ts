/**
 * `kunit-bridge parse` end to end, through the built CLI (dist/runner/bin.js,
 * spawned without a shell): exit codes, the summary, stdin, reports, colour.
 * `npm test` builds first; run `npm run build` before running this file alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO, SHARED } from '../../helpers/corpus.js';

const CLI = join(REPO, 'dist/runner/bin.js');
const JUNIT_XSD = join(SHARED, 'schemas/junit-10.xsd');

const RUST_LOG = join(FIXTURES, 'kernels/x86_64-rust-kunit/boot.log');
const PASS_LOG = join(FIXTURES, 'ktap/kunit_tool/test_is_test_passed-all_passed.log');
const CRASH_LOG = join(FIXTURES, 'kernels/x86_64-rust-kunit-v2/boot-oops-panic-filtered.log');
const RUST_KUNIT_JSON = join(REPO, 'test/golden/kunit-py/x86_64-rust-kunit--boot.json');
const RUST_SUMMARY = 'Testing complete. Ran 192 tests: passed: 186, failed: 1, skipped: 5';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[/;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  /** Remove inherited `npm_*` variables. */
  dropNpmEnv?: boolean;
}

/** The environment without colour settings inherited from the test runner. */
function cleanEnv(extra: Record<string, string> = {}, dropNpm = false): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['NO_COLOR'];
  delete env['FORCE_COLOR'];
  if (dropNpm) for (const k of Object.keys(env)) if (/^npm_/i.test(k)) delete env[k];
  return { ...env, ...extra };
}

function spawn(command: string, args: string[], options: RunOptions = {}): Run {
  const r = spawnSync(command, args, {
    cwd: options.cwd ?? REPO,
    env: cleanEnv(options.env, options.dropNpmEnv),
    // Always a pipe: with no input the child sees an empty stdin, never the terminal.
    input: options.input ?? '',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cli = (args: string[], options: RunOptions = {}): Run => spawn(process.execPath, [CLI, ...args], options);

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
const lastLine = (text: string): string | undefined => lines(text).at(-1);

const dir = mkdtempSync(join(tmpdir(), 'kunit-bridge-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does it)`);
});

describe('kunit-bridge parse: verdicts and exit codes', () => {
  it("a boot log with a failing Rust test: exit 1, names the failure, kunit.py's final line", () => {
    const r = cli(['parse', RUST_LOG]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('rust_fixture_fail');
    expect(r.stdout).toMatch(/^\[FAILED\] rust_fixture_fail$/m);
    expect(lastLine(r.stdout)).toBe(RUST_SUMMARY);
  });

  it('an all-pass log: exit 0', () => {
    const r = cli(['parse', PASS_LOG]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(lastLine(r.stdout)).toBe('Testing complete. Ran 10 tests: passed: 10');
  });

  it('a kernel crash: exit 3, names oops_test as crashed', () => {
    const r = cli(['parse', CRASH_LOG]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/^\[CRASHED\] oops_test$/m);
    expect(lastLine(r.stdout)).toMatch(/^Testing complete\. Ran 3 tests: .*crashed: 1/);
  });

  it.each([
    ['an empty file', ''],
    ['a log without KTAP', '[    0.000000] Linux version 6.12.0\n[    0.100000] random: crng init done\n'],
  ])('%s: exit 3 and one "No KTAP" line', (_name, content) => {
    const file = join(dir, `no-ktap-${content.length}.log`);
    writeFileSync(file, content);
    const r = cli(['parse', file]);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout).filter((l) => /No KTAP/i.test(l))).toHaveLength(1);
  });

  it('a missing file: exit 2, one line on stderr naming the file', () => {
    const missing = join(dir, 'does-not-exist.log');
    const r = cli(['parse', missing]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(missing);
  });

  it.each([[['parse', '--no-such-flag', RUST_LOG]], [['--no-such-flag']]])('an unknown flag (%j): exit 2, one line on stderr', (args) => {
    const r = cli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('--no-such-flag');
  });
});

describe('kunit-bridge parse: stdin', () => {
  const log = readFileSync(RUST_LOG);
  let fromFile: Run;
  beforeAll(() => {
    fromFile = cli(['parse', RUST_LOG]);
  });

  it.each([
    ['with -', ['parse', '-']],
    ['with no file argument', ['parse']],
  ])('reading stdin %s gives the same as the file', (_name, args) => {
    const r = cli(args, { input: log });
    expect(r.status, r.stderr).toBe(fromFile.status);
    expect(r.stderr).toBe(fromFile.stderr);
    expect(r.stdout).toBe(fromFile.stdout);
  });

  it("stdin reports equal the file's", () => {
    const a = join(dir, 'stdin-a.json');
    const b = join(dir, 'stdin-b.json');
    expect(cli(['parse', RUST_LOG, '-q', '--kunit-json', a]).status).toBe(1);
    expect(cli(['parse', '-', '-q', '--kunit-json', b], { input: log }).status).toBe(1);
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
  });
});

describe('kunit-bridge parse: output', () => {
  it('--quiet prints nothing for a failing log, and still exits 1', () => {
    const r = cli(['parse', '--quiet', RUST_LOG]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  });

  it('--junit --tap --json --kunit-json are all written; --kunit-json matches kunit.py byte for byte', () => {
    const out = join(dir, 'all');
    const path = (f: string): string => join(out, f);
    const r = cli([
      'parse',
      RUST_LOG,
      '--junit',
      path('junit.xml'),
      '--tap',
      path('results.tap'),
      '--json',
      path('results.json'),
      '--kunit-json',
      path('kunit.json'),
    ]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe('');
    expect(lastLine(r.stdout)).toBe(RUST_SUMMARY);

    expect(readFileSync(path('kunit.json'), 'utf8')).toBe(readFileSync(RUST_KUNIT_JSON, 'utf8'));
    const json = JSON.parse(readFileSync(path('results.json'), 'utf8')) as { verdict: string; counts: { total: number } };
    expect(json.verdict).toBe('failed');
    expect(json.counts.total).toBe(192);
    expect(readFileSync(path('results.tap'), 'utf8')).toMatch(/^TAP version 14\n1\.\.\d+\n/);
    const xml = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, path('junit.xml')], { encoding: 'utf8' });
    if (xml.error) throw new Error(`xmllint could not run (${xml.error.message}): install it (Debian: libxml2-utils)`);
    expect(xml.status, xml.stderr).toBe(0);
  });

  it('an unwritable report path: exit 2, one line naming it, the other reports still written', () => {
    const out = join(dir, 'unwritable');
    const blocker = join(dir, 'a-regular-file');
    writeFileSync(blocker, 'not a directory\n');
    const bad = join(blocker, 'junit.xml');
    const r = cli([
      'parse',
      RUST_LOG,
      '--junit',
      bad,
      '--tap',
      join(out, 'results.tap'),
      '--json',
      join(out, 'results.json'),
      '--kunit-json',
      join(out, 'kunit.json'),
    ]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(bad);
    for (const f of ['results.tap', 'results.json', 'kunit.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'kunit.json'), 'utf8')).toBe(readFileSync(RUST_KUNIT_JSON, 'utf8'));
    expect(existsSync(bad)).toBe(false);
  });

  it('FORCE_COLOR=1 colours the summary', () => {
    const r = cli(['parse', RUST_LOG], { env: { FORCE_COLOR: '1' } });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(ANSI);
  });

  it('NO_COLOR=1 wins over FORCE_COLOR=1', () => {
    const r = cli(['parse', RUST_LOG], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    expect(r.status).toBe(1);
    expect(r.stdout).not.toMatch(ANSI);
    expect(r.stderr).not.toMatch(ANSI);
  });

  it('no colour on a pipe by default', () => {
    const r = cli(['parse', RUST_LOG]);
    expect(r.stdout).not.toMatch(ANSI);
  });
});

describe('kunit-bridge --help', () => {
  it('exits 0 and lists the exit codes', () => {
    const r = cli(['--help']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Exit codes:');
    for (const code of ['0', '1', '2', '3', '4']) expect(r.stdout).toMatch(new RegExp(`^\\s+${code}\\s+\\S`, 'm'));
    expect(r.stdout).toContain('parse');
  });

  it('works as `npx kunit-bridge --help` from the repo root', () => {
    // As from a user's shell: without the npm_* variables of an enclosing `npm test`/`npx vitest`
    // (they change how npx behaves). npm_config_yes=false: never install from the registry. An npm
    // cache of its own: another npx changing ~/.npm/_npx at the same moment made this fail.
    const cache = mkdtempSync(join(dir, 'npm-cache-'));
    const r = spawn('npx', ['kunit-bridge', '--help'], {
      cwd: REPO,
      dropNpmEnv: true,
      env: { npm_config_yes: 'false', npm_config_cache: cache },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: kunit-bridge');
    expect(r.stdout).toContain('Exit codes:');
  });
});
