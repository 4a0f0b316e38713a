import { targetName, textTable } from '../report/render.js';
import { type Forecast, type ForecastLimit, usd } from './model.js';

/** The console view of a forecast: a row per pattern, the first limits, the verdict, the assumptions. */
const n = (x: number | null, d = 1) =>
  x === null
    ? '–'
    : x >= 100
      ? Math.round(x).toLocaleString('en-US')
      : String(Math.round(x * 10 ** d) / 10 ** d);

function where(l: ForecastLimit): string {
  const t = targetName(l);
  return l.partitionKey !== null ? `${t} key ${l.partitionKey}` : t;
}

export function renderForecast(f: Forecast): string {
  const out: string[] = [];
  out.push(
    `forecast at ${n(f.rate)} requests/s (the run: ${n(f.measuredRate)} requests/s), growth ${f.growth}; units a second per pattern`,
  );
  const rows = f.patterns.map((p) => {
    const limit = p.firstLimit === null ? undefined : f.limits[p.firstLimit];
    const rcu = p.targets.reduce((a, t) => a + t.rcu, 0);
    const wcu = p.targets.reduce((a, t) => a + t.wcu, 0);
    const b = p.busiestKey;
    const key = b
      ? `${b.partitionKey}${b.index ? ` (${b.index})` : ''} ${Math.round(b.share * 100)}% of ${b.keys}${b.truncated ? '+' : ''}`
      : '–';
    return [
      p.id,
      `${Math.round((f.mix[p.id] ?? 0) * 1000) / 10}%`,
      n(p.callsPerSecond),
      n(rcu),
      n(wcu),
      key,
      n(p.maxRate),
      limit ? `${limit.reason} on ${where(limit)}` : '–',
      p.throttles
        ? `THROTTLES${limit?.throttlesAfterSec !== null && limit?.throttlesAfterSec !== undefined ? ` after ${n(limit.throttlesAfterSec)} s` : ''}`
        : p.headroom === null
          ? '–'
          : `${n(p.headroom, 2)}x`,
    ];
  });
  out.push(
    textTable([
      [
        'pattern',
        'mix',
        'calls/s',
        'RCU/s',
        'WCU/s',
        'busiest key (share of keys)',
        'max rps',
        'first limit',
        'headroom',
      ],
      ...rows,
    ]),
  );
  out.push('');
  out.push('first limits:');
  for (const l of f.limits.slice(0, 5)) {
    const who = Object.entries(l.shares)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([id, s]) => `${id} ${Math.round(s * 100)}%`)
      .join(', ');
    out.push(
      `  ~${n(l.rate)} rps  ${where(l)}: ${l.limit}, ${n(l.unitsPerRequest, 3)} ${l.kind === 'read' ? 'RCU' : 'WCU'}/request (${who}) -> ${l.exception} ${l.reason}`,
    );
  }
  if (f.limits.length === 0) out.push('  none: no pattern takes capacity');
  out.push('');
  out.push(
    `cost at ${n(f.rate)} requests/s: on-demand ${usd(f.cost.onDemandMonthlyUsd)}/month; provisioned ${usd(f.cost.provisionedMonthlyUsd)}/month (${f.cost.provisioned
      .map((p) => `${targetName(p)} ${p.rcu} RCU / ${p.wcu} WCU`)
      .join(', ')}, at ${Math.round(f.cost.utilization * 100)}% utilisation); ${f.cost.region} prices`,
  );
  for (const note of f.notes) out.push(`note: ${note}`);
  out.push(`assumes: ${f.assumptions.join('; ')}`);
  out.push('');
  out.push(`forecast: ${f.verdict}`);
  return out.join('\n');
}
