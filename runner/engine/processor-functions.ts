import type { ArtilleryScript } from './artillery.js';

const HOOK_KEYS = ['beforeScenario', 'afterScenario', 'beforeRequest', 'afterResponse', 'onError'] as const;

/**
 * The processor functions a script names, with where: `function` steps, and the hooks of scenarios
 * and requests (one name or a list). A templated name (`{{ hook }}`) is resolved per virtual user:
 * left out.
 */
export function processorFunctions(script: ArtilleryScript): { name: string; at: string }[] {
  const out: { name: string; at: string }[] = [];
  const add = (value: unknown, at: string) => {
    for (const [i, name] of (Array.isArray(value) ? value : [value]).entries())
      if (typeof name === 'string' && !name.includes('{{'))
        out.push({ name, at: Array.isArray(value) ? `${at}.${i}` : at });
  };
  const steps = (list: unknown, at: string): void => {
    if (!Array.isArray(list)) return;
    for (const [i, step] of list.entries()) {
      if (step === null || typeof step !== 'object') continue;
      const here = `${at}.${i}`;
      for (const [key, v] of Object.entries(step as Record<string, unknown>)) {
        if (key === 'function') add(v, `${here}.function`);
        else if (key === 'loop' || key === 'parallel') steps(v, `${here}.${key}`);
        else if (v !== null && typeof v === 'object' && !Array.isArray(v))
          for (const hook of ['beforeRequest', 'afterResponse'])
            add((v as Record<string, unknown>)[hook], `${here}.${key}.${hook}`);
      }
    }
  };
  const flows: [Record<string, unknown> | undefined, string][] = [
    ...(script.scenarios ?? []).map((sc, i): [Record<string, unknown>, string] => [
      sc as Record<string, unknown>,
      `scenarios.${i}`,
    ]),
    [script.before as Record<string, unknown> | undefined, 'before'],
    [script.after as Record<string, unknown> | undefined, 'after'],
  ];
  for (const [flow, at] of flows) {
    if (!flow) continue;
    for (const hook of HOOK_KEYS) add(flow[hook], `${at}.${hook}`);
    steps(flow.flow, `${at}.flow`);
  }
  return out;
}
