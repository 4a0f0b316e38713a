export {
  type ForecastConfig,
  forecastConfigSchema,
  forecastOptions,
  MissingPrices,
  missingPrices,
  PRICE_FLAGS,
  type PriceKey,
} from './config.js';
export {
  ASSUMPTIONS,
  DEFAULT_PRICES,
  DEFAULT_UTILIZATION,
  type Forecast,
  type ForecastCost,
  ForecastError,
  type ForecastLimit,
  type ForecastOptions,
  type ForecastPattern,
  forecast,
  type Growth,
  growthLabel,
  type Prices,
  parseGrowth,
  parseMix,
} from './model.js';
export { renderForecast } from './render.js';
