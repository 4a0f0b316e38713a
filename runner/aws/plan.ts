import type { ArtilleryScript } from '../engine/artillery.js';
import type { Report } from '../report/types.js';

/**
 * The plan printed before a run on AWS: how much load, and roughly what it costs. Lambda is priced
 * from workers x duration x memory; DynamoDB from the scenario's requests per virtual user and the
 * cost per request that a local run of the same scenario measured (the capacity math is the same).
 */
export const LAMBDA_PRICING = {
  region: 'us-east-1',
  /** arm64, USD per GB-second. */
  gbSecondUsd: 0.0000133334,
  requestUsd: 0.0000002,
};
/** Time a runner spends starting (cold start, Artillery setup) beyond the scenario itself. */
const STARTUP_SEC = 10;

export interface Plan {
  readonly workers: number;
  readonly durationSec: number;
  readonly arrivals: number;
  /** Peak arrivals per second over all workers. */
  readonly peakRate: number;
  readonly requestsPerVuser: number;
  readonly lambdaUsd: number;
  /** undefined when no local report gives a cost per request for the scenario's patterns. */
  readonly dynamodbUsd: number | undefined;
  readonly notes: string[];
}

type Phase = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function phaseArrivals(p: Phase): { seconds: number; arrivals: number; peak: number } {
  const seconds = num(p.duration) ?? num(p.pause) ?? 0;
  const count = num(p.arrivalCount);
  if (count !== undefined) return { seconds, arrivals: count, peak: seconds > 0 ? count / seconds : count };
  const from = num(p.arrivalRate) ?? 0;
  const to = num(p.rampTo) ?? from;
  return { seconds, arrivals: ((from + to) / 2) * seconds, peak: Math.max(from, to) };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head'];

/** Request steps per virtual user by name, averaged over the scenarios by weight (loops count once). */
export function requestsPerVuser(script: ArtilleryScript): Map<string, number> {
  const scenarios = script.scenarios;
  const total = scenarios.reduce((s, sc) => s + (num(sc.weight) ?? 1), 0) || 1;
  const byName = new Map<string, number>();
  const walk = (steps: unknown, share: number) => {
    if (!Array.isArray(steps)) return;
    for (const step of steps as Record<string, unknown>[]) {
      for (const m of METHODS) {
        const spec = step[m] as { name?: unknown; url?: unknown } | undefined;
        if (!spec) continue;
        const name = typeof spec.name === 'string' ? spec.name : `${m.toUpperCase()} ${String(spec.url)}`;
        byName.set(name, (byName.get(name) ?? 0) + share);
      }
      if (step.loop) walk(step.loop, share);
    }
  };
  for (const sc of scenarios) walk(sc.flow, (num(sc.weight) ?? 1) / total);
  return byName;
}

export function planRun(
  script: ArtilleryScript,
  workers: number,
  memoryMb: number,
  local: Report | undefined,
): Plan {
  const phases = (script.config.phases ?? []).map(phaseArrivals);
  const durationSec = phases.reduce((s, p) => s + p.seconds, 0);
  const arrivals = phases.reduce((s, p) => s + p.arrivals, 0);
  const peakRate = phases.reduce((m, p) => Math.max(m, p.peak), 0);
  const perVuser = requestsPerVuser(script);
  const requestsPerVu = [...perVuser.values()].reduce((s, n) => s + n, 0);
  const lambdaUsd =
    workers * (durationSec + STARTUP_SEC) * (memoryMb / 1024) * LAMBDA_PRICING.gbSecondUsd +
    workers * LAMBDA_PRICING.requestUsd;
  const notes: string[] = [];
  let dynamodbUsd: number | undefined;
  if (local) {
    const cost = new Map(local.patterns.map((p) => [p.id, p.costPerMillionUsd]));
    const missing = [...perVuser.keys()].filter((n) => !cost.has(n));
    dynamodbUsd = [...perVuser].reduce((s, [name, n]) => s + (arrivals * n * (cost.get(name) ?? 0)) / 1e6, 0);
    notes.push(`DynamoDB cost per request from the local run of ${local.scenario} (${local.startedAt})`);
    if (missing.length > 0) notes.push(`no local figure for: ${missing.join(', ')} (counted as 0)`);
  } else {
    notes.push(
      'DynamoDB cost unknown: run the scenario locally first (loadtest run) for a per-request figure',
    );
  }
  return {
    workers,
    durationSec,
    arrivals,
    peakRate,
    requestsPerVuser: requestsPerVu,
    lambdaUsd,
    dynamodbUsd,
    notes,
  };
}

export function renderPlan(plan: Plan, functionName: string, appUrl: string): string {
  const usd = (n: number) => `$${n < 0.01 ? n.toFixed(4) : n.toFixed(2)}`;
  return [
    `plan: ${plan.workers} Lambda worker(s) of ${functionName} -> ${appUrl}`,
    `  ${plan.durationSec} s, ~${Math.round(plan.arrivals)} virtual users (peak ${plan.peakRate}/s in all), ~${Math.round(plan.arrivals * plan.requestsPerVuser)} requests`,
    `  estimated cost: Lambda ${usd(plan.lambdaUsd)} (${LAMBDA_PRICING.region} arm64), DynamoDB ${plan.dynamodbUsd === undefined ? 'unknown' : usd(plan.dynamodbUsd)}`,
    ...plan.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}
