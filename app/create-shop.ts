import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EmfPublisher, PatternMetrics } from 'dynamo-loadtest/instrument';
import type { FastifyInstance } from 'fastify';
import type { LocalTokens, TokenVerifier } from './auth.js';
import { PatternClient } from './data/instrument.js';
import { ShopStore } from './data/shop.js';
import { createApp } from './http/server.js';
import { SHOP_SERVICE } from './patterns.js';

/*
 * The app's composition root, apart from index.ts so that the app's entry (main.ts) loads what
 * serving needs and nothing else: index.ts also exports the seed generator, and with it faker's
 * English locale (~70 ms of CPU at every start of the app for data it never makes).
 */

export interface ShopOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly verifier: TokenVerifier;
  readonly devTokens?: LocalTokens;
  readonly exposeMetrics?: boolean;
  /** Where EMF lines go (stdout on AWS); omit to publish none. */
  readonly emf?: { write: (line: string) => void; intervalMs?: number };
  readonly onServerError?: (err: unknown) => void;
}

export interface Shop {
  readonly app: FastifyInstance;
  readonly store: ShopStore;
  readonly metrics: PatternMetrics;
  /** Stops EMF publishing (flushing what is left) and closes the HTTP server. */
  close(): Promise<void>;
}

/** The composition root of the reference app: one metrics registry, one instrumented client, one store. */
export function createShop(options: ShopOptions): Shop {
  const metrics = new PatternMetrics();
  const store = new ShopStore(new PatternClient(options.doc, metrics), { tableName: options.tableName });
  const stopEmf = options.emf
    ? new EmfPublisher({ write: options.emf.write, service: SHOP_SERVICE })
        .attach(metrics)
        .start(options.emf.intervalMs ?? 10_000)
    : () => {};
  const app = createApp({
    store,
    metrics,
    verifier: options.verifier,
    ...(options.devTokens ? { devTokens: options.devTokens } : {}),
    exposeMetrics: options.exposeMetrics ?? false,
    onServerError: (err) => (options.onServerError ?? ((e) => console.error('[app] server error:', e)))(err),
  });
  return {
    app,
    store,
    metrics,
    async close() {
      stopEmf();
      await app.close();
    },
  };
}
