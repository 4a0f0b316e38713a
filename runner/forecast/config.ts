import { z } from 'zod';
import { DEFAULT_PRICES, DEFAULT_UTILIZATION, type ForecastOptions, parseGrowth, parseMix } from './model.js';

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

/** A config's forecast as the model's options (growth and mix parsed: a bad one is a ForecastError). */
export function forecastOptions(c: ForecastConfig, region?: string): ForecastOptions {
  const p = c.prices ?? {};
  return {
    rate: c.rate,
    ...(c.mix !== undefined ? { mix: typeof c.mix === 'string' ? parseMix(c.mix) : c.mix } : {}),
    ...(c.growth !== undefined ? { growth: parseGrowth(c.growth) } : {}),
    ...(c.previousPeak !== undefined ? { previousPeak: c.previousPeak } : {}),
    utilization: c.utilization ?? DEFAULT_UTILIZATION,
    prices: {
      region: p.region ?? region ?? DEFAULT_PRICES.region,
      readPerMillionUsd: p.readPerMillion ?? DEFAULT_PRICES.readPerMillionUsd,
      writePerMillionUsd: p.writePerMillion ?? DEFAULT_PRICES.writePerMillionUsd,
      rcuHourUsd: p.rcuHour ?? DEFAULT_PRICES.rcuHourUsd,
      wcuHourUsd: p.wcuHour ?? DEFAULT_PRICES.wcuHourUsd,
    },
  };
}
