import type { PatternMetrics } from 'dynamo-loadtest/instrument';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { LocalTokens, TokenVerifier } from '../auth.js';
import type { ShopStore, User } from '../data/shop.js';
import { DomainError, Throttled, Unauthorized } from '../errors.js';
import {
  addToCartBody,
  cartItemParams,
  devTokenBody,
  newProductBody,
  pageQuery,
  parse,
  productParams,
  productQuery,
  registerBody,
} from './schemas.js';

export interface AppOptions {
  readonly store: ShopStore;
  readonly verifier: TokenVerifier;
  readonly metrics: PatternMetrics;
  /** Only the embedded stack passes this: it adds POST /api/dev/token. */
  readonly devTokens?: LocalTokens;
  /** GET /__metrics and POST /__metrics/reset, for the local load runner. */
  readonly exposeMetrics?: boolean;
  readonly onServerError?: (err: unknown, req: FastifyRequest) => void;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
  }
}

const STATUS: Record<string, number> = {
  InvalidInput: 400,
  Unauthorized: 401,
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Throttled: 503,
  Unavailable: 503,
};

function publicUser(u: User) {
  return { email: u.email, name: u.name, createdAt: u.createdAt };
}

/** The HTTP edge: validate, call one store method, translate the answer. No logic lives here. */
export function createApp(options: AppOptions): FastifyInstance {
  const { store, verifier, metrics } = options;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, routerOptions: { maxParamLength: 200 } });
  app.decorateRequest('user', null);

  app.setErrorHandler((err: FastifyError | DomainError, req, reply) => {
    if (err instanceof DomainError) {
      const status = STATUS[err.name] ?? 500;
      if (err instanceof Throttled) reply.header('retry-after', String(err.retryAfterSeconds));
      if (err.name === 'Unavailable') reply.header('retry-after', '1');
      if (err instanceof Unauthorized) reply.header('www-authenticate', 'Bearer');
      return reply.code(status).send({ error: err.name, message: err.message });
    }
    // Fastify's own 4xx (malformed JSON, body too large, wrong content type) keep their status.
    const status = (err as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ error: (err as FastifyError).code ?? 'BadRequest', message: err.message });
    }
    options.onServerError?.(err, req);
    return reply.code(500).send({ error: 'InternalError', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'NotFound', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  const authenticate = async (req: FastifyRequest) => {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header) : null;
    if (!match?.[1]) throw new Unauthorized('missing Authorization: Bearer <token> header');
    const identity = await verifier.verify(match[1]);
    const user = await store.getUserByEmail(identity.email);
    if (!user) throw new Unauthorized(`no user ${identity.email}: register first`);
    req.user = user;
  };
  const caller = (req: FastifyRequest): User => {
    if (!req.user) throw new Unauthorized('not authenticated');
    return req.user;
  };
  const auth = { preHandler: authenticate };

  app.get('/health', async () => ({ status: 'ok' }));

  app.post('/api/users', async (req, reply) => {
    const body = parse(registerBody, req.body, 'body');
    const user = await store.registerUser(body);
    return reply.code(201).send(publicUser(user));
  });

  app.get('/api/users/me', auth, async (req) => publicUser(caller(req)));

  app.post('/api/products', auth, async (req, reply) => {
    const body = parse(newProductBody, req.body, 'body');
    return reply.code(201).send(await store.createProduct(body));
  });

  app.get('/api/products/:id', async (req) => {
    const { id } = parse(productParams, req.params, 'params');
    return store.getProduct(id);
  });

  app.get('/api/products', async (req) => {
    const q = parse(productQuery, req.query, 'query');
    if (q.ids) return { items: (await store.getProductsByIds(q.ids)).products };
    const page = await store.listProducts(
      { category: q.category, q: q.q, minPrice: q.minPrice, maxPrice: q.maxPrice },
      { limit: q.limit, cursor: q.cursor },
    );
    return { items: page.items, cursor: page.cursor ?? null };
  });

  app.get('/api/cart', auth, async (req) => {
    const cart = await store.getCurrentCart(caller(req));
    const items = await store.getCartItems(cart.orderId);
    const total = Math.round(items.reduce((s, i) => s + i.price * i.quantity, 0) * 100) / 100;
    return { ...cart, items, total };
  });

  app.post('/api/cart/items', auth, async (req, reply) => {
    const body = parse(addToCartBody, req.body, 'body');
    const user = caller(req);
    const product = await store.getProduct(body.productId);
    const cart = await store.getCurrentCart(user);
    const { item, created } = await store.addToCart(cart.orderId, product, body.quantity);
    return reply.code(created ? 201 : 200).send(item);
  });

  app.delete('/api/cart/items/:productId', auth, async (req, reply) => {
    const { productId } = parse(cartItemParams, req.params, 'params');
    const cart = await store.getCurrentCart(caller(req));
    await store.removeFromCart(cart.orderId, productId);
    return reply.code(204).send();
  });

  app.post('/api/cart/checkout', auth, async (req) => store.checkout(caller(req)));

  app.get('/api/orders', auth, async (req) => {
    const q = parse(pageQuery, req.query, 'query');
    const page = await store.getOrderHistory(caller(req).email, q);
    return { items: page.items, cursor: page.cursor ?? null };
  });

  const devTokens = options.devTokens;
  if (devTokens) {
    app.post('/api/dev/token', async (req) => {
      const { email } = parse(devTokenBody, req.body, 'body');
      return { token: await devTokens.sign(email) };
    });
  }

  if (options.exposeMetrics) {
    app.get('/__metrics', async () => metrics.snapshot());
    app.post('/__metrics/reset', async (_req, reply: FastifyReply) => {
      metrics.reset();
      return reply.code(204).send();
    });
  }

  return app;
}
