export { type Identity, LocalTokens, type TokenVerifier } from './auth.js';
export { createShop, type Shop, type ShopOptions } from './create-shop.js';
export { BulkWriteFailed, bulkWrite } from './data/bulk.js';
export { createDynamoClients } from './data/client.js';
export { PatternClient } from './data/instrument.js';
export { ensureTable } from './data/setup.js';
export type { Order, OrderItem, Product, User } from './data/shop.js';
export { ShopStore } from './data/shop.js';
export * from './errors.js';
export * from './events.js';
export * as schemas from './http/schemas.js';
export {
  type AccessPattern,
  accessPatterns,
  isPatternId,
  type PatternId,
  patternIds,
  SHOP_SERVICE,
} from './patterns.js';
export {
  generateSeed,
  type SeedData,
  type SeededProduct,
  type SeedResult,
  seed,
  seedUserEmail,
} from './seed.js';
export * from './table.js';
