/**
 * The access-pattern registry: every DynamoDB call the app makes is tagged with one of these ids,
 * and scenarios, thresholds, dashboards and reports are keyed by them.
 */
export type Operation =
  | 'GetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'Query'
  | 'BatchGetItem'
  | 'TransactWriteItems';

export interface AccessPattern {
  readonly id: string;
  readonly operations: readonly Operation[];
  readonly index?: 'GSI1' | 'GSI2' | 'GSI3';
  readonly description: string;
}

export const accessPatterns = [
  { id: 'registerUser', operations: ['PutItem'], description: 'create a user; duplicate email is refused' },
  { id: 'getUserByEmail', operations: ['GetItem'], description: 'load the caller (auth middleware)' },
  { id: 'createProduct', operations: ['PutItem'], description: 'add a product with a ulid id' },
  { id: 'getProduct', operations: ['GetItem'], description: 'one product by id' },
  { id: 'getProductsByIds', operations: ['BatchGetItem'], description: 'several products by id' },
  { id: 'listProducts', operations: ['Query'], index: 'GSI2', description: 'catalogue page by price' },
  {
    id: 'listProductsByPriceRange',
    operations: ['Query'],
    index: 'GSI2',
    description: 'products with price BETWEEN min and max',
  },
  {
    id: 'listProductsByCategory',
    operations: ['Query'],
    index: 'GSI1',
    description: 'products in a category',
  },
  {
    id: 'searchProductsByTitle',
    operations: ['Query'],
    index: 'GSI3',
    description: 'products whose title begins with a prefix',
  },
  {
    id: 'getCurrentCart',
    operations: ['Query', 'PutItem'],
    index: 'GSI3',
    description: "the caller's open cart, created if absent",
  },
  { id: 'getCartItems', operations: ['Query'], description: 'lines of an order or cart' },
  { id: 'addToCart', operations: ['PutItem', 'UpdateItem'], description: 'add a line or raise its quantity' },
  { id: 'removeFromCart', operations: ['DeleteItem'], description: 'drop a cart line' },
  { id: 'checkout', operations: ['TransactWriteItems'], description: 'complete the cart, count sales' },
  { id: 'getOrderHistory', operations: ['Query'], description: "the caller's completed orders" },
] as const satisfies readonly AccessPattern[];

export type PatternId = (typeof accessPatterns)[number]['id'];

export const patternIds: readonly PatternId[] = accessPatterns.map((p) => p.id);

const known = new Set<string>(patternIds);

export function isPatternId(id: string): id is PatternId {
  return known.has(id);
}

/** The shop's name as a project, and its EMF `Service` dimension. */
export const SHOP_SERVICE = 'shop';
