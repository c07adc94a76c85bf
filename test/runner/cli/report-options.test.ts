/**
 * The report options come from the reporter registry: every file reporter is
 * an option of parse, run and merge, its path lands in the request field
 * writeReports reads, and nothing else is invented.
 */
import { Command } from 'commander';
import { describe, expect, test } from 'vitest';
import { REPORTER_CATALOG } from '../../../reporters/catalog.js';
import { FILE_REPORTERS } from '../../../reporters/index.js';
import { buildProgram } from '../../../runner/cli.js';
import { addReportOptions, reportRequest, type ReportFlags } from '../../../runner/cli/report-options.js';
import { REPORT_PATH_FIELDS, reportField } from '../../../runner/reports.js';

const optionsOf = (name: string): string[] =>
  buildProgram(() => {})
    .commands.find((c) => c.name() === name)!
    .options.map((o) => o.long ?? '');

describe('report options from the registry', () => {
  test('every file reporter has a request field, and every field a reporter', () => {
    expect(FILE_REPORTERS.map((r) => reportField(r.name)).sort()).toEqual([...REPORT_PATH_FIELDS].sort());
    expect(() => reportField('no-such-reporter')).toThrow(/no field/);
  });

  test('the catalog the CLI reads lists the registry: same names, descriptions and order', () => {
    expect(REPORTER_CATALOG.map((r) => [r.name, r.description])).toEqual(FILE_REPORTERS.map((r) => [r.name, r.description]));
  });

  test.each(['parse', 'run', 'merge'])('%s has --NAME FILE for every reporter', (command) => {
    const opts = optionsOf(command);
    for (const r of FILE_REPORTERS) expect(opts).toContain(`--${r.name}`);
    expect(opts).toEqual(expect.arrayContaining(['--junit-locations', '--kcidb-origin', '--kcidb-checkout-id', '--kcidb-build-id']));
  });

  test('compare writes only the reports of one results.json', () => {
    const opts = optionsOf('compare');
    expect(opts).toEqual(expect.arrayContaining(['--junit', '--tap', '--json', '--markdown']));
    expect(opts).not.toContain('--kcidb');
    expect(opts).not.toContain('--kunit-json');
  });

  test('flags as commander parses them become the typed request', () => {
    const cmd = addReportOptions(new Command().exitOverride());
    cmd.parse(['--junit', 'j.xml', '--kunit-json', 'k.json', '--kcidb', 'c.json', '--kcidb-origin', 'lab_1', '--junit-locations'], {
      from: 'user',
    });
    expect(reportRequest(cmd.opts<ReportFlags>())).toEqual({
      junit: 'j.xml',
      kunitJson: 'k.json',
      kcidb: 'c.json',
      kcidbOrigin: 'lab_1',
      junitLocations: true,
    });
  });

  test('a bad KCIDB origin is a usage error naming the rule', () => {
    const cmd = addReportOptions(new Command().exitOverride());
    expect(() => cmd.parse(['--kcidb-origin', 'Bad-Origin'], { from: 'user' })).toThrow(/\^\[a-z0-9_\]\+\$/);
  });
});
