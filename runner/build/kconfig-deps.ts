/**
 * Why an option did not land in the .config, where the tree's Kconfig files
 * can tell: its `depends on` lines and the symbols in them that are not set,
 * or that it has no prompt (only another option's `select` turns it on), or
 * that no Kconfig file defines it. `explainMissing` is pure (the Kconfig
 * texts are given); `kconfigFiles` reads the tree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a `config NAME` block says about how it can be turned on. */
export interface KconfigDefinition {
  /** `FILE:LINE` of the `config` line. */
  where: string;
  dependsOn: string[];
  hasPrompt: boolean;
}

const CONFIG_LINE = /^\s*(?:menu)?config\s+(\w+)\s*$/;
const BLOCK_END = /^\s*(?:(?:menu)?config|choice|endchoice|menu|endmenu|if|endif|source|comment|mainmenu)\b/;
const TYPED_PROMPT = /^\s*(?:bool|tristate|string|int|hex)\s+"/;

/** Every `config NAME` block of one Kconfig file's text. */
export function definitionsIn(text: string, file: string, name: string): KconfigDefinition[] {
  const lines = text.split('\n');
  const out: KconfigDefinition[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = CONFIG_LINE.exec(lines[i]!);
    if (!m || m[1] !== name) continue;
    const def: KconfigDefinition = { where: `${file}:${i + 1}`, dependsOn: [], hasPrompt: false };
    for (let j = i + 1; j < lines.length && !BLOCK_END.test(lines[j]!); j++) {
      const l = lines[j]!;
      const dep = /^\s*depends\s+on\s+(.+?)\s*$/.exec(l);
      if (dep) def.dependsOn.push(dep[1]!);
      if (TYPED_PROMPT.test(l) || /^\s*prompt\s+"/.test(l)) def.hasPrompt = true;
    }
    out.push(def);
  }
  return out;
}

/** The symbols a `depends on` expression names that the .config does not have as y or m. */
export function unmetSymbols(expr: string, config: ReadonlyMap<string, string>): string[] {
  const symbols = expr.match(/\b[A-Z][A-Z0-9_]*\b/g) ?? [];
  return [...new Set(symbols)].filter((s) => s !== 'y' && s !== 'm' && s !== 'n' && !['y', 'm'].includes(config.get(s) ?? 'n'));
}

/** One clause: what the option needs, for the "did not land" message. */
export function explainMissing(defs: readonly KconfigDefinition[], config: ReadonlyMap<string, string>): string {
  if (defs.length === 0) return 'no Kconfig file of this tree defines it (a typo, or an option of another kernel version?)';
  const deps = [...new Set(defs.flatMap((d) => d.dependsOn))];
  const unmet = [...new Set(deps.flatMap((d) => unmetSymbols(d, config)))];
  const parts: string[] = [];
  if (deps.length > 0) parts.push(`depends on ${deps.join(' && ')} (${defs[0]!.where})`);
  if (unmet.length > 0) parts.push(`not set: ${unmet.map((s) => `CONFIG_${s}`).join(', ')}`);
  if (!defs.some((d) => d.hasPrompt)) parts.push('it has no prompt: only another option that selects it turns it on');
  return parts.length > 0
    ? parts.join('; ')
    : `its dependencies look met (${defs[0]!.where}): another value may be forced by a select or a choice`;
}

/** The tree's Kconfig files (relative paths), skipping dot-directories and build dirs. */
export function kconfigFiles(source: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const d of readdirSync(join(source, rel), { withFileTypes: true })) {
      if (d.name.startsWith('.')) continue;
      const path = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(path);
      else if (d.isFile() && d.name.startsWith('Kconfig')) out.push(path);
    }
  };
  walk('');
  return out;
}

/** For each missing option, what it needs: the tree's Kconfig files are read once for all. */
export function explainAll(source: string, names: readonly string[], config: ReadonlyMap<string, string>): Map<string, string> {
  const defs = new Map<string, KconfigDefinition[]>(names.map((n) => [n, []]));
  for (const file of kconfigFiles(source)) {
    let text: string;
    try {
      text = readFileSync(join(source, file), 'utf8');
    } catch {
      continue;
    }
    for (const n of names) if (text.includes(n)) defs.get(n)!.push(...definitionsIn(text, file, n));
  }
  return new Map(names.map((n) => [n, explainMissing(defs.get(n)!, config)]));
}
