import { z } from 'zod';
import {
  DEFAULT_PRICES,
  DEFAULT_UTILIZATION,
  ForecastError,
  type ForecastOptions,
  parseGrowth,
  parseMix,
} from './model.js';

/**
 * The expected traffic, as a project (`forecast:`) or a scenario (`config.loadtest.forecast`) states
 * it: `loadtest run` then forecasts every run at that rate, and `forecast.*` thresholds judge it.
 */
export const forecastConfigSchema = z.strictObject({
  /** Client requests a second you expect in production. */
  rate: z.number().positive(),
  /** Pattern -> share of DynamoDB calls ("checkout=0.2,getProduct=0.8" or a map); default the run's. */
  mix: z.union([z.string(), z.record(z.string(), z.number().nonnegative())]).optional(),
  /** "instant" (default) or "<factor>x/<n>(s|min|h)": how fast traffic reaches the rate. */
  growth: z.string().optional(),
  /** On-demand: requests a second the tables served at their previous peak. */
  previousPeak: z.number().nonnegative().optional(),
  /** Provisioned capacity is bought at this utilisation (default 0.7). */
  utilization: z.number().positive().max(1).optional(),
  prices: z
    .strictObject({
      region: z.string().optional(),
      readPerMillion: z.number().nonnegative().optional(),
      writePerMillion: z.number().nonnegative().optional(),
      rcuHour: z.number().nonnegative().optional(),
      wcuHour: z.number().nonnegative().optional(),
    })
    .optional(),
});
export type ForecastConfig = z.infer<typeof forecastConfigSchema>;

/** A price, as a config's `prices` names it. */
export type PriceKey = 'readPerMillion' | 'writePerMillion' | 'rcuHour' | 'wcuHour';

/**
 * The prices of `keys` that a region other than the built-in prices' own lacks. Filled in from the
 * built-in list, they would be us-east-1's prices under another region's name: a wrong bill that
 * looks right.
 */
export function missingPrices(
  region: string,
  given: Partial<Record<PriceKey, number>>,
  keys: readonly PriceKey[] = ['readPerMillion', 'writePerMillion', 'rcuHour', 'wcuHour'],
): PriceKey[] {
  return region === DEFAULT_PRICES.region ? [] : keys.filter((k) => given[k] === undefined);
}

/** The flag that gives each price, on `run` (on-demand ones) and `forecast` (all four). */
export const PRICE_FLAGS: Record<PriceKey, string> = {
  readPerMillion: '--price-read',
  writePerMillion: '--price-write',
  rcuHour: '--price-rcu-hour',
  wcuHour: '--price-wcu-hour',
};

/** A region's prices were not all given (see missingPrices). */
export class MissingPrices extends ForecastError {
  override name = 'MissingPrices';
  constructor(
    readonly region: string,
    readonly missing: readonly PriceKey[],
  ) {
    super(
      `prices for ${region}: ${missing.join(', ')} not given (the built-in prices are ${DEFAULT_PRICES.region}'s list prices)`,
    );
  }
}

/**
 * A config's forecast as the model's options (growth and mix parsed: a bad one is a ForecastError;
 * a region with prices missing is MissingPrices).
 */
export function forecastOptions(c: ForecastConfig, region?: string): ForecastOptions {
  const p = c.prices ?? {};
  const named = p.region ?? region ?? DEFAULT_PRICES.region;
  const missing = missingPrices(named, p);
  if (missing.length > 0) throw new MissingPrices(named, missing);
  return {
    rate: c.rate,
    ...(c.mix !== undefined ? { mix: typeof c.mix === 'string' ? parseMix(c.mix) : c.mix } : {}),
    ...(c.growth !== undefined ? { growth: parseGrowth(c.growth) } : {}),
    ...(c.previousPeak !== undefined ? { previousPeak: c.previousPeak } : {}),
    utilization: c.utilization ?? DEFAULT_UTILIZATION,
    prices: {
      region: named,
      readPerMillionUsd: p.readPerMillion ?? DEFAULT_PRICES.readPerMillionUsd,
      writePerMillionUsd: p.writePerMillion ?? DEFAULT_PRICES.writePerMillionUsd,
      rcuHourUsd: p.rcuHour ?? DEFAULT_PRICES.rcuHourUsd,
      wcuHourUsd: p.wcuHour ?? DEFAULT_PRICES.wcuHourUsd,
    },
  };
}
