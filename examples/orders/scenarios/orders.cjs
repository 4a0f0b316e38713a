// Artillery processor for the orders example's scenarios. The customers, products and the time window
// of the seeded orders come from the data command (seed.mjs), which writes them to the JSON file
// LOADTEST_FIXTURES points at (default .loadtest/fixtures.json, next to `loadtest up`).
const fs = require('node:fs');
const path = require('node:path');

let fixtures;
let fixturesFile;
function load() {
  const file = process.env.LOADTEST_FIXTURES || path.resolve('.loadtest/fixtures.json');
  if (!fixtures || fixturesFile !== file) {
    fixturesFile = file;
    try {
      fixtures = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(
        `no fixtures at ${file} (${err.code || err.message}): run the scenario with \`loadtest run\``,
      );
    }
    if (!fixtures.customers?.length || !fixtures.products?.length)
      throw new Error(`the fixtures at ${file} have no customers or products`);
  }
  return fixtures;
}

const DAY = 24 * 3_600_000;
const any = (list) => list[Math.floor(Math.random() * list.length)];

function setCustomer(context, customerId) {
  const f = load();
  context.vars.customerId = customerId;
  // Three distinct customers for the batch read, this one first.
  const others = f.customers.filter((c) => c !== customerId);
  const ids = [customerId];
  while (ids.length < 3 && others.length > 0)
    ids.push(others.splice(Math.floor(Math.random() * others.length), 1)[0]);
  context.vars.customerIds = ids.join(',');
  context.vars.productId = any(f.products);
  context.vars.status = any(f.statuses);
  // A 3-day span inside the seeded window.
  const span = Math.max(0, f.window.to - f.window.from - 3 * DAY);
  const from = f.window.from + Math.floor(Math.random() * span);
  context.vars.from = from;
  context.vars.to = from + 3 * DAY;
  context.vars.quantity = 1 + Math.floor(Math.random() * 3);
  context.vars.price = Math.round((5 + Math.random() * 45) * 100) / 100;
}

/** Any seeded customer. */
function pickCustomer(context, _events, done) {
  setCustomer(context, any(load().customers));
  done();
}

/** Always the same customer (the one with the most orders): one hot partition key. */
function pickHotCustomer(context, _events, done) {
  setCustomer(context, load().hotCustomer);
  done();
}

/** A customer id nobody has yet. */
function newCustomer(context, _events, done) {
  context.vars.newCustomerId = `c-new-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  done();
}

module.exports = { pickCustomer, pickHotCustomer, newCustomer };
