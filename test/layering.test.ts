/**
 * The layers, checked on the sources' import lines: the KTAP core is pure
 * (imports nothing but itself: no I/O, no transport), only the command line
 * imports the commands, and no two modules import each other in a circle.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { REPO } from './helpers/corpus.js';

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(join(REPO, dir))) {
    const p = join(dir, e);
    if (statSync(join(REPO, p)).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const files = ['runner', 'agent', 'reporters'].flatMap((d) => sources(d));
const edges: Edge[] = files.flatMap((from) => {
  const text = readFileSync(join(REPO, from), 'utf8');
  return [...text.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)].map((m) => ({
    from,
    typeOnly: m[1] !== undefined,
    to: m[2]!.startsWith('.') ? relative(REPO, resolve(REPO, dirname(from), m[2]!)).replace(/\.js$/, '.ts') : m[2]!,
  }));
});

test('the import scan sees the code base', () => {
  expect(files.length).toBeGreaterThan(50);
  expect(edges.some((e) => e.from === 'runner/ktap/index.ts' && e.to === 'runner/ktap/parser.ts')).toBe(true);
});

test('runner/ktap is pure: it imports only itself (no node: modules, no transports, no reporters)', () => {
  const data = new Set(['node:buffer', 'node:string_decoder']); // bytes and text, no I/O
  const bad = edges.filter((e) => e.from.startsWith('runner/ktap/') && !e.to.startsWith('runner/ktap/') && !data.has(e.to));
  expect(bad.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
});

test('only the command line imports the commands', () => {
  const cli = (f: string): boolean =>
    f.startsWith('runner/commands/') || f === 'runner/cli.ts' || f === 'runner/bin.ts' || f.startsWith('runner/cli/');
  const bad = edges.filter((e) => e.to.startsWith('runner/commands/') && !cli(e.from));
  expect(bad.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
});

test('no import cycles: none at run time, and none between directories even through types', () => {
  // Two modules of one directory may share types both ways (model.ts ⇄ status.ts); anything else is a layer
  // that leans on a layer above it.
  const next = new Map<string, Edge[]>();
  for (const e of edges) if (files.includes(e.to)) next.set(e.from, [...(next.get(e.from) ?? []), e]);
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: Edge[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    for (const e of next.get(f) ?? []) {
      path.push(e);
      if (state.get(e.to) === 'open') {
        const loop = path.slice(path.findIndex((p) => p.from === e.to));
        const dirs = new Set(loop.map((p) => dirname(p.from)));
        if (loop.every((p) => !p.typeOnly) || dirs.size > 1) cycles.push([...loop.map((p) => p.from), e.to].join(' → '));
      } else if (!state.has(e.to)) visit(e.to);
      path.pop();
    }
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  expect(cycles).toEqual([]);
});
