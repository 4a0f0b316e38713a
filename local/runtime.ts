import { fileURLToPath } from 'node:url';

/**
 * How this code runs: from its TypeScript sources through tsx (development, or no build yet), or
 * compiled to dist/ (what `npm install` builds: see bin/build.js). Paths to the package's own non-code
 * files go through PACKAGE_ROOT, so they are the same files either way.
 */
export function isSourceUrl(moduleUrl: string): boolean {
  return /\.[cm]?ts$/.test(new URL(moduleUrl).pathname);
}

/** True when running from the .ts sources (tsx is registered: any TypeScript file loads). */
export const FROM_SOURCE = isSourceUrl(import.meta.url);

/** The package's folder: this file is local/runtime.ts there, or dist/local/runtime.js compiled. */
export const PACKAGE_ROOT = fileURLToPath(new URL(FROM_SOURCE ? '..' : '../..', import.meta.url));
