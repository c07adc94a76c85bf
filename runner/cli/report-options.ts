/**
 * The report options of every command, made from the reporter registry's
 * catalog (reporters/catalog.ts: names and descriptions, without loading the
 * reporters): one `--NAME FILE` per file reporter, so a new reporter is a new
 * option, a new request field and a new line in `--help`.
 */
import type { Command } from 'commander';
import { REPORTER_CATALOG, reportField } from '../../reporters/catalog.js';
import type { ReportRequest } from '../reports.js';
import { kcidbOrigin } from './options.js';

/** What commander hands over for the report options (`--kunit-json` → `kunitJson`). */
export type ReportFlags = Partial<Record<ReturnType<typeof reportField>, string>> & {
  junitLocations?: boolean;
  kcidbOrigin?: string;
  kcidbCheckoutId?: string;
  kcidbBuildId?: string;
};

/** Add `--junit FILE`, `--tap FILE`, … for the reporters named (default: all), and their options. */
export function addReportOptions(cmd: Command, names: readonly string[] = REPORTER_CATALOG.map((r) => r.name)): Command {
  for (const r of REPORTER_CATALOG) if (names.includes(r.name)) cmd.option(`--${r.name} <file>`, `write ${r.description}`);
  if (names.includes('junit')) cmd.option('--junit-locations', 'add file/line attributes from Rust doctest locations to JUnit test cases');
  if (names.includes('kcidb')) {
    cmd
      .option('--kcidb-origin <name>', 'KCIDB origin (^[a-z0-9_]+$)', kcidbOrigin, 'kunit_bridge')
      .option('--kcidb-checkout-id <id>', 'refer to this KCIDB checkout (submitted by the CI) instead of writing one')
      .option('--kcidb-build-id <id>', 'refer to this KCIDB build (submitted by the CI) instead of writing one');
  }
  return cmd;
}

/** The typed report request from the flags. */
export function reportRequest(flags: ReportFlags): ReportRequest {
  const req: ReportRequest = {};
  for (const r of REPORTER_CATALOG) {
    const field = reportField(r.name);
    const path = flags[field];
    if (path !== undefined) req[field] = path;
  }
  if (flags.junitLocations) req.junitLocations = true;
  if (flags.kcidbOrigin !== undefined) req.kcidbOrigin = flags.kcidbOrigin;
  if (flags.kcidbCheckoutId !== undefined) req.kcidbCheckoutId = flags.kcidbCheckoutId;
  if (flags.kcidbBuildId !== undefined) req.kcidbBuildId = flags.kcidbBuildId;
  return req;
}
