/**
 * Users' TypeScript (a project config, a scenario's processor) in a process that runs compiled
 * JavaScript: tsx is registered the first time such a file is loaded, and only then, so a run of plain
 * JS and YAML never pays for it. From the sources (tsx already registered) there is nothing to do.
 * Kept free of local/ imports: the Lambda runner image holds runner/ and instrument/ only.
 */
/** This code runs from its TypeScript sources (through tsx), not compiled. */
export const FROM_SOURCE = /\.[cm]?ts$/.test(new URL(import.meta.url).pathname);

/** A file Node cannot load by itself. */
export function isTypeScriptFile(file: string): boolean {
  return /\.[cm]?tsx?$/.test(file);
}

let registered: Promise<void> | undefined;

/** Makes `file` loadable: registers tsx's ESM and CommonJS hooks once if it is TypeScript. */
export function ensureTypeScript(file: string): Promise<void> {
  if (FROM_SOURCE || !isTypeScriptFile(file)) return Promise.resolve();
  registered ??= (async () => {
    (await import('tsx/esm/api')).register();
    (await import('tsx/cjs/api')).register();
  })();
  return registered;
}
