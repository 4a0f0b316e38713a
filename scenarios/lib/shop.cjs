// Artillery processor for the shop scenarios. Users (with tokens) and products come from the shop's
// data command: `loadtest run` and `loadtest up` have it write them to a JSON file and point
// LOADTEST_FIXTURES at it (default .loadtest/fixtures.json, so a plain `artillery run` works next to
// `loadtest up`).
const fs = require('node:fs');
const path = require('node:path');

// Cached per file: a reused process (a warm Lambda runner) gets a new seed file for each run.
let seed;
let seedFile;
function load() {
  const file = process.env.LOADTEST_FIXTURES || path.resolve('.loadtest/fixtures.json');
  if (!seed || seedFile !== file) {
    seed = undefined;
    seedFile = file;
    cumulative = undefined;
    turn = 0;
    try {
      seed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(
        `no fixtures at ${file} (${err.code || err.message}): start the stack with \`loadtest up\`, or use \`loadtest run\``,
      );
    }
    if (!seed.users?.length || !seed.products?.length)
      throw new Error(`the fixtures at ${file} have no users or products`);
  }
  return seed;
}

// Workers take interleaved users, so N workers never share one (two VUs on one cart would conflict).
let turn = 0;

function pickUser(context, _events, done) {
  const { users } = load();
  const worker = Number(process.env.LOADTEST_WORKER || 0);
  const workers = Number(process.env.LOADTEST_WORKERS || 1);
  const user = users[(worker + workers * turn++) % users.length];
  context.vars.email = user.email;
  context.vars.token = user.token;
  done();
}

function pickProduct(context, _events, done) {
  const { products } = load();
  const at = Math.floor(Math.random() * products.length);
  const product = products[at];
  context.vars.productId = product.id;
  context.vars.category = product.category;
  context.vars.titlePrefix = product.title.split(' ')[0].toLowerCase();
  context.vars.productIds = [0, 1, 2].map((k) => products[(at + k * 7) % products.length].id).join(',');
  done();
}

// Popular products more often (the seed's Zipf weights): realistic hot keys.
let cumulative;
function pickPopularProduct(context, _events, done) {
  const { products } = load();
  if (!cumulative) {
    let sum = 0;
    cumulative = products.map((p) => (sum += p.weight ?? 1));
  }
  const x = Math.random() * cumulative[cumulative.length - 1];
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  const product = products[lo];
  context.vars.productId = product.id;
  context.vars.category = product.category;
  done();
}

// Always the same product: a hot partition key.
function pickHotProduct(context, _events, done) {
  const product = load().products[0];
  context.vars.productId = product.id;
  done();
}

function newIdentity(context, _events, done) {
  const suffix = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  context.vars.newEmail = `vu-${suffix}@example.com`;
  context.vars.newTitle = `Load Test Item ${suffix}`;
  done();
}

module.exports = { pickUser, pickProduct, pickPopularProduct, pickHotProduct, newIdentity };
