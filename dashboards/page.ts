import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../local/runtime.js';
import type { ChartRow } from './local.js';

/**
 * The one HTML page both local views use (the report file and the live dashboard): uPlot and our
 * drawing script inlined, so it needs no network. A Content-Security-Policy allows only those exact
 * inline scripts and styles (by hash) and, for the live page, fetches to its own origin.
 */

/** Markup that is already safe: made by `html` (which escapes what it interpolates) or trusted code. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

type Interpolated = SafeHtml | string | number | boolean | null | undefined | readonly Interpolated[];

function part(v: Interpolated): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(part).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}

/** Tagged template: every interpolated value is escaped unless it is SafeHtml (or a list of them). */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += part(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** JSON that is safe inside <script>: no `<`, `>`, `&` or line separators as themselves. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

interface Assets {
  uplotJs: string;
  uplotCss: string;
  pageJs: string;
  pageCss: string;
}

// The package's own files, whether this runs from the sources or compiled to dist/.
const ASSETS = join(PACKAGE_ROOT, 'dashboards', 'assets');
let assets: Assets | undefined;

function loadAssets(): Assets {
  if (assets) return assets;
  const require = createRequire(import.meta.url);
  const dist = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');
  const own = (file: string) => readFileSync(join(ASSETS, file), 'utf8');
  // A script's text must not close its own element.
  const script = (s: string) => s.replace(/<\/script/gi, '<\\/script');
  assets = {
    uplotJs: script(dist('uPlot.iife.min.js')),
    uplotCss: dist('uPlot.min.css'),
    pageJs: script(own('page.js')),
    pageCss: own('page.css'),
  };
  return assets;
}

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

export interface PageOptions {
  readonly title: string;
  /** Shown above the charts (already escaped: build it with `html`). */
  readonly before: SafeHtml;
  /** Shown below the charts. */
  readonly after?: SafeHtml;
  /** The HTML report: the rows, drawn once. */
  readonly rows?: readonly ChartRow[];
  /** The live dashboard: where to poll for `{ rows, status, running, source }` (same origin). */
  readonly live?: { readonly dataUrl: string; readonly intervalMs: number };
}

export function renderPage(options: PageOptions): string {
  const a = loadAssets();
  const config = jsonForScript({ live: options.live ?? null });
  const data = jsonForScript({ rows: options.rows ?? [] });
  const style = `${a.uplotCss}\n${a.pageCss}`;
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(a.uplotJs)} ${sha256(a.pageJs)}`,
    `style-src ${sha256(style)}`,
    'img-src data:',
    options.live ? "connect-src 'self'" : "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<title>${escapeHtml(options.title)}</title>
<style>${style}</style>
</head>
<body>
${options.before.value}
<h2>Over time</h2>
<div id="charts"></div>
${options.after?.value ?? ''}
<script type="application/json" id="loadtest-config">${config}</script>
<script type="application/json" id="loadtest-data">${data}</script>
<script>${a.uplotJs}</script>
<script>${a.pageJs}</script>
</body>
</html>
`;
}
