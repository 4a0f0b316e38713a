/**
 * Options a command does not know itself (`loadtest up --users 50`, `loadtest seed --products 200`)
 * are the project's data command's parameters: they reach it as LOADTEST_SEED (JSON), and the data
 * command checks them (the shop's refuses an unknown one with exit 2, naming the ones it knows).
 */
export function seedParams(args: Record<string, unknown>, own: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (key === '_' || key === '$0' || own.has(key)) continue;
    // yargs keeps both spellings of --foo-bar; keep the camelCase one.
    const camel = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (camel !== key && camel in args) continue;
    if (own.has(camel)) continue;
    out[camel] = value;
  }
  return out;
}
