/**
 * The live page's copy of the status rules (runner/ktap/status.ts), as a
 * classic script that sets `globalThis.KUNIT_BRIDGE_STATUS`: the page has no
 * build step, so `npm run build` writes this text to runner/live/page/status.js
 * (scripts/page-status.mjs) and a test keeps the committed file in step.
 */
import { STATUS_RULES, SUMMARY_ORDER } from '../ktap/status.js';

/** The source of runner/live/page/status.js. */
export function pageStatusScript(): string {
  const rules = STATUS_RULES.map(({ status, effect, shown, badge, rank, count, countLabel }) => ({
    status,
    effect,
    shown,
    badge,
    rank,
    count: count ?? null,
    countLabel: countLabel ?? null,
    summary: SUMMARY_ORDER.indexOf(status),
  }));
  const lines = [
    '// Generated from runner/ktap/status.ts by scripts/page-status.mjs (npm run build): do not edit.',
    "'use strict';",
    'globalThis.KUNIT_BRIDGE_STATUS = Object.freeze([',
    ...rules.map((r) => `  ${JSON.stringify(r)},`),
    ']);',
    '',
  ];
  return lines.join('\n');
}
