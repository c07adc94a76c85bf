// The table `npm run bench` writes into docs/benchmarks.md: one row per measure of the speed goals, read from
// the `rows` array each bench script puts in its $TMPDIR/kunit-bridge-bench/<script>-latest.json. Pure
// functions plus one writer; the section sits between two markers so the rest of the page stays hand-written.
import fs from 'node:fs';
import path from 'node:path';

export const START = '<!-- bench:table:start (written by npm run bench; edit outside the markers) -->';
export const END = '<!-- bench:table:end -->';

const cell = (v) => (v === undefined || v === null || v === '' ? '—' : String(v).replaceAll('|', '\\|').replaceAll('\n', ' '));
const verdict = (met) => (met === true ? 'met' : met === false ? '**not met**' : '—');

/** Rows of every `*-latest.json` in `dir` written at or after `sinceMs`, in `order` of the scripts, then the rest. */
export function collectRows(dir, sinceMs, order = []) {
  let files = [];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('-latest.json'));
  } catch {
    return [];
  }
  const rank = (f) => {
    const i = order.indexOf(f.replace(/-latest\.json$/, ''));
    return i === -1 ? order.length : i;
  };
  files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const rows = [];
  for (const f of files) {
    const file = path.join(dir, f);
    if (fs.statSync(file).mtimeMs < sinceMs) continue;
    let doc;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    for (const r of Array.isArray(doc.rows) ? doc.rows : []) rows.push({ source: f.replace(/-latest\.json$/, ''), ...r });
  }
  return rows;
}

/** The markdown section for `rows`, headed by what the run was (`meta`: date, commit, machine, runs). */
export function renderTable(rows, meta) {
  const lines = [
    START,
    `## Latest \`npm run bench\` (${meta.date}, commit ${meta.commit})`,
    '',
    `${meta.machine}; BENCH_RUNS=${meta.runs}; load average ${meta.loadBefore} before, ${meta.loadAfter} after. ` +
      'Medians, each tool alternated with its reference in the same run.',
    '',
    '| measure | reference | kunit-bridge | ratio | goal | |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| ${cell(r.measure)} | ${cell(r.reference)} | ${cell(r.bridge)} | ${cell(r.ratio)} | ${cell(r.goal)} | ${verdict(r.met)} |`,
    ),
  ];
  if (!rows.length) lines.push('| (no bench script wrote rows in this run) | | | | | |');
  lines.push(END);
  return `${lines.join('\n')}\n`;
}

/** `page` with its marked section replaced by `section` (or the section put after the page's first heading). */
export function replaceSection(page, section) {
  const a = page.indexOf(START);
  const b = page.indexOf(END);
  if (a !== -1 && b > a) return page.slice(0, a) + section + page.slice(b + END.length + (page[b + END.length] === '\n' ? 1 : 0));
  const nl = page.indexOf('\n');
  return nl === -1 ? `${page}\n\n${section}` : `${page.slice(0, nl + 1)}\n${section}${page.slice(nl + 1)}`;
}
