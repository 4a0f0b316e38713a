/**
 * The row a request is counted under: its `name`, else its method and URL as sent (an absolute URL's
 * path only), as the engine names it at run time and the scenario loader names it ahead of time.
 */
export function requestName(params: { name?: unknown; method?: unknown; url?: unknown }): string {
  if (typeof params.name === 'string' && params.name !== '') return params.name;
  let path = String(params.url ?? '');
  try {
    path = new URL(path).pathname;
  } catch {}
  return `${String(params.method ?? 'GET').toUpperCase()} ${path}`;
}
