/**
 * The live page's files and the headers every live response carries. The
 * page's one inline script (it passes the token on to the page's own files) is
 * allowed by its hash; nothing else inline runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

// The page ships as source: beside this file when run from source (runner/live/page-files.ts), three
// levels up from the compiled dist/runner/live/page-files.js.
const PAGE_DIR =
  [new URL('./page/', import.meta.url), new URL('../../../runner/live/page/', import.meta.url)].find((u) =>
    existsSync(new URL('index.html', u)),
  ) ?? new URL('../../../runner/live/page/', import.meta.url);

/** Request path → file of the page. */
export const ASSETS: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/style.css': 'style.css',
  '/status.js': 'status.js',
  '/app.js': 'app.js',
  '/model.js': 'model.js',
  '/view.js': 'view.js',
  '/socket.js': 'socket.js',
};
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

export interface PageFile {
  body: Buffer;
  type: string;
}

/** `sha256-…` sources for the inline scripts of an HTML page. */
export function inlineScriptHashes(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    out.push(`'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`);
  }
  return out;
}

/** The Content-Security-Policy for a page with these inline script hashes: the page's own files and feed, nothing else. */
export function contentSecurityPolicy(scriptHashes: string[]): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${scriptHashes.join(' ')}`.trim(),
    "style-src 'self'",
    'img-src data:',
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export class PageFiles {
  private readonly files = new Map<string, PageFile>();
  /** Headers for every response, page or refusal. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(dir: URL = PAGE_DIR) {
    for (const name of new Set(Object.values(ASSETS))) {
      try {
        this.files.set(name, { body: readFileSync(new URL(name, dir)), type: TYPES[name.split('.').pop()!] ?? 'application/octet-stream' });
      } catch {
        /* missing from this installation: 500 when asked for */
      }
    }
    const html = this.files.get('index.html')?.body.toString('utf8') ?? '';
    this.headers = {
      'content-security-policy': contentSecurityPolicy(inlineScriptHashes(html)),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      // The token rides in the page's URL: never hand it to another site.
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'no-store',
    };
  }

  /** The file for a request path; `null`: a page path whose file is missing; undefined: not a page path. */
  get(pathname: string): PageFile | null | undefined {
    const name = ASSETS[pathname];
    if (name === undefined) return undefined;
    return this.files.get(name) ?? null;
  }
}
