/**
 * kunitconfig fragments, as kunit.py reads them (kunit_config.py): parsed
 * with the place of every option, merged with conflicts named `FILE:LINE`.
 * Pure: text in, entries out; reading the files is fragments.ts's job.
 *
 * Accepted format, one entry a line (blank lines and `#` comments ignored):
 *
 *   CONFIG_KUNIT=y
 *   CONFIG_CMDLINE="console=ttyS0"
 *   # CONFIG_MODULES is not set
 */

/** One option of a fragment: `CONFIG_<name>=<value>` (`n` for `# … is not set`) and where it was written. */
export interface KconfigEntry {
  name: string;
  value: string;
  /** `FILE:LINE`, `--kconfig-add`, or `the <arch> profile`. */
  where: string;
}

/** A parsed fragment: its entries in order, one per name (a later line overrides an earlier one, as in kunit.py). */
export interface Fragment {
  source: string;
  entries: KconfigEntry[];
}

/** A fragment line that is neither an option nor a comment. */
export interface FragmentLineError {
  where: string;
  line: string;
}

const SET = /^CONFIG_(\w+)=(\S+|".*")$/;
const NOT_SET = /^# CONFIG_(\w+) is not set$/;

/** `CONFIG_X=v` as .config writes it (`# CONFIG_X is not set` for n). */
export function entryLine(e: { name: string; value: string }): string {
  return e.value === 'n' ? `# CONFIG_${e.name} is not set` : `CONFIG_${e.name}=${e.value}`;
}

/**
 * Parse a fragment's text. `source` names it in messages (a path, or
 * `--kconfig-add`); with `lineNumbers` false (for `--kconfig-add` values) the
 * place is the source alone.
 */
export function parseFragment(text: string, source: string, lineNumbers = true): { fragment: Fragment; errors: FragmentLineError[] } {
  const byName = new Map<string, KconfigEntry>();
  const errors: FragmentLineError[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const where = lineNumbers ? `${source}:${i + 1}` : source;
    const set = SET.exec(line);
    const unset = set ? undefined : NOT_SET.exec(line);
    const m = set ?? unset;
    if (m) {
      byName.delete(m[1]!);
      byName.set(m[1]!, { name: m[1]!, value: set ? m[2]! : 'n', where });
    } else if (!line.startsWith('#')) errors.push({ where, line });
  });
  return { fragment: { source, entries: [...byName.values()] }, errors };
}

/** Two fragments that set the same option to different values. */
export interface KconfigConflict {
  name: string;
  first: KconfigEntry;
  second: KconfigEntry;
}

/**
 * Merge fragments in order, as kunit.py's get_parsed_kunitconfig: the same
 * option with different values in two of them is a conflict (reported, and
 * the merge keeps the first value). Equal values are fine.
 */
export function mergeFragments(fragments: readonly Fragment[]): { entries: KconfigEntry[]; conflicts: KconfigConflict[] } {
  const merged = new Map<string, KconfigEntry>();
  const conflicts: KconfigConflict[] = [];
  for (const f of fragments)
    for (const e of f.entries) {
      const had = merged.get(e.name);
      if (had === undefined) merged.set(e.name, e);
      else if (had.value !== e.value) conflicts.push({ name: e.name, first: had, second: e });
    }
  return { entries: [...merged.values()], conflicts };
}

/**
 * Lay `over` on `base`, later values winning (kunit.py's merge_in_entries):
 * the arch's profile under the kunitconfig, `--kconfig-add` over both.
 */
export function overlay(base: readonly KconfigEntry[], over: readonly KconfigEntry[]): KconfigEntry[] {
  const out = new Map(base.map((e) => [e.name, e]));
  for (const e of over) {
    out.delete(e.name);
    out.set(e.name, e);
  }
  return [...out.values()];
}

/** One line per conflict: `CONFIG_X=y (a:3) vs CONFIG_X=n (b:7)`. */
export function describeConflicts(conflicts: readonly KconfigConflict[]): string {
  return conflicts.map((c) => `${entryLine(c.first)} (${c.first.where}) vs ${entryLine(c.second)} (${c.second.where})`).join('; ');
}

/** The values a .config holds (`CONFIG_X=v`, `# CONFIG_X is not set` → n). */
export function parseDotConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const set = SET.exec(line);
    const unset = set ? undefined : NOT_SET.exec(line);
    if (set) out.set(set[1]!, set[2]!);
    else if (unset) out.set(unset[1]!, 'n');
  }
  return out;
}

/**
 * The requested options the .config does not hold (kunit.py's
 * validate_config): a value other than asked, or absent when not asked to
 * be `n` (an option not set at all counts as `n`).
 */
export function missingOptions(requested: readonly KconfigEntry[], config: ReadonlyMap<string, string>): KconfigEntry[] {
  return requested.filter((e) => {
    const got = config.get(e.name);
    return got === undefined ? e.value !== 'n' : got !== e.value;
  });
}
