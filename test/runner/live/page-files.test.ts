/**
 * The page's files: every file of runner/live/page/ is served (a module missing from ASSETS would be a 404
 * on the page's first import), each with its type, under the page's one strict CSP.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ASSETS, PageFiles } from '../../../runner/live/page-files.js';
import { REPO } from '../../helpers/corpus.js';

test("every file of the page is served, scripts as JavaScript; the CSP allows only the page's own scripts and its one inline script", () => {
  const files = readdirSync(join(REPO, 'runner/live/page')).sort();
  expect(files).toEqual(expect.arrayContaining(['app.js', 'index.html', 'model.js', 'socket.js', 'status.js', 'style.css', 'view.js']));
  expect([...new Set(Object.values(ASSETS))].sort()).toEqual(files);
  const page = new PageFiles();
  for (const f of files.filter((x) => x.endsWith('.js'))) {
    expect(ASSETS[`/${f}`]).toBe(f);
    expect(page.get(`/${f}`)?.type).toBe('text/javascript; charset=utf-8');
  }
  const csp = page.headers['content-security-policy'] ?? '';
  expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'; /);
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
});
