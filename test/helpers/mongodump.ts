import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BSON, Double, EJSON, Int32, Long, ObjectId } from 'bson';

/**
 * A `mongodump` of the guide's MongoDB shop, made with the official `bson` package the way mongodump
 * writes it: `<db>/<collection>.bson` (BSON documents back to back) and `<collection>.metadata.json`
 * (canonical Extended JSON). Products as that shop stores them: a numeric `category`, image paths
 * relative to its uploads folder, the seller as a `writer` ObjectId, Int32/Double numbers, Dates.
 * Users with bcrypt password hashes and login tokens, which must never reach the table.
 */
export interface ShopDump {
  /** The database folder (what `loadtest import` takes). */
  readonly dir: string;
  readonly users: readonly UserDoc[];
  readonly products: readonly ProductDoc[];
}

export interface UserDoc {
  _id: ObjectId;
  name: string;
  lastname: string;
  email: string;
  password: string;
  role: Int32;
  image: string;
  cart: unknown[];
  history: unknown[];
  token: string;
  tokenExp: Long;
  createdAt: Date;
  updatedAt: Date;
  __v: Int32;
}

export interface ProductDoc {
  _id: ObjectId;
  writer: ObjectId;
  title: string;
  description: string;
  price: Int32 | Double;
  images: string[];
  category: Int32;
  sold: Int32;
  views: Int32;
  createdAt: Date;
  updatedAt: Date;
  __v: Int32;
}

/** ObjectIds as MongoDB makes them: 4 bytes of seconds, then 8 bytes (here: a counter, so the dump is reproducible). */
function objectId(seconds: number, n: number): ObjectId {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(seconds, 0);
  bytes.writeUInt32BE(0xc0ffee, 4);
  bytes.writeUInt32BE(n, 8);
  return new ObjectId(bytes);
}

const T0 = Date.UTC(2022, 4, 20, 12, 0, 0);

export function shopUsers(count: number): UserDoc[] {
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(T0 + i * 3_600_000);
    return {
      _id: objectId(Math.floor(at.getTime() / 1000), i),
      name: `User${i}`,
      lastname: `Family${i}`,
      email: `user${i}@example.com`,
      password: `$2b$10$${Buffer.from(`salt-and-hash-${i}`).toString('base64').padEnd(53, 'x').slice(0, 53)}`,
      role: new Int32(i === 0 ? 1 : 0),
      image: 'http://gravatar.com/avatar/1653052809657?d=identicon',
      cart: [],
      history: [],
      token: `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(`user${i}`).toString('base64url')}.secret-token-${i}`,
      tokenExp: Long.fromNumber(at.getTime() + 86_400_000),
      createdAt: at,
      updatedAt: at,
      __v: new Int32(0),
    };
  });
}

export function shopProducts(count: number, writers: readonly UserDoc[]): ProductDoc[] {
  const kinds = ['hoodie-lambda', 'mug-dynamodb', 'sticker-s3', 'tshirt-cdk', 'cap-stepfunctions'];
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(T0 + 86_400_000 + i * 60_000);
    const kind = kinds[i % kinds.length] as string;
    const stamp = 1653052809657 + i;
    return {
      _id: objectId(Math.floor(at.getTime() / 1000), 1000 + i),
      writer: (writers[i % writers.length] as UserDoc)._id,
      title: `${kind.replace('-', ' ')} ${i}`,
      description: `The ${kind} of the guide's shop, number ${i}.`,
      // Whole prices as Int32, others as Double: both are "a number" in MongoDB.
      price: i % 2 === 0 ? new Int32(20 + (i % 30)) : new Double(Math.round((9.99 + (i % 40)) * 100) / 100),
      images: [
        `uploads/${stamp}_${kind}.webp`,
        ...(i % 3 === 0 ? [`uploads/${stamp}_${kind}-back.webp`] : []),
      ],
      category: new Int32(1 + (i % 7)),
      sold: new Int32(i % 11),
      views: new Int32(i * 7),
      createdAt: at,
      updatedAt: at,
      __v: new Int32(0),
    };
  });
}

function metadata(collection: string): string {
  return EJSON.stringify(
    {
      indexes: [{ v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' }],
      uuid: '2f1c6b1e8e4a4d0f9d7e0b6b2a1c3d4e',
      collectionName: collection,
      type: 'collection',
    },
    { relaxed: false },
  );
}

/** Writes the dump (gzip: as `mongodump --gzip` does, every file .gz) and returns what is in it. */
export async function writeShopDump(
  root: string,
  options: { users?: number; products?: number; gzip?: boolean } = {},
): Promise<ShopDump> {
  const dir = join(root, 'dump', 'shop');
  await mkdir(dir, { recursive: true });
  const users = shopUsers(options.users ?? 5);
  const products = shopProducts(options.products ?? 40, users);
  const gz = options.gzip ? '.gz' : '';
  const pack = (b: Buffer) => (options.gzip ? gzipSync(b) : b);
  for (const [name, docs] of [
    ['users', users],
    ['products', products],
  ] as const) {
    const bytes = Buffer.concat(docs.map((d) => BSON.serialize(d as unknown as Record<string, unknown>)));
    await writeFile(join(dir, `${name}.bson${gz}`), pack(bytes));
    await writeFile(join(dir, `${name}.metadata.json${gz}`), pack(Buffer.from(metadata(name))));
  }
  // A collection the shop's mapping has no entity for: a dump holds more than one app's data.
  await writeFile(join(dir, `sessions.bson${gz}`), pack(Buffer.from(BSON.serialize({ _id: 'x' }))));
  return { dir, users, products };
}
