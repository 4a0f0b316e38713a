import { describe, expect, it } from 'vitest';
import { addToCartBody, newProductBody, parse, productQuery, registerBody } from '../../app/http/schemas.js';
import { InvalidInput } from '../../app/index.js';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInput);
    return (err as Error).message;
  }
  throw new Error('expected InvalidInput');
}

describe('request validation', () => {
  it('names the field that is wrong', () => {
    expect(message(() => parse(registerBody, { email: 'nope', name: 'x' }, 'body'))).toMatch(
      /^body\.email: /,
    );
    expect(
      message(() =>
        parse(newProductBody, { title: 't', description: 'd', price: -1, category: 'c' }, 'body'),
      ),
    ).toMatch(/^body\.price: /);
    expect(message(() => parse(addToCartBody, { productId: 'p', quantity: 1.5 }, 'body'))).toMatch(
      /^body\.quantity: /,
    );
    expect(message(() => parse(productQuery, { limit: '0' }, 'query'))).toMatch(/^query\.limit: /);
    expect(message(() => parse(registerBody, { email: 'a@b.co', name: 'x', admin: true }, 'body'))).toMatch(
      /unknown field admin/,
    );
    expect(message(() => parse(registerBody, undefined, 'body'))).toMatch(/^body: /);
  });

  it('refuses strings that cannot be stored: lone surrogates, oversize', () => {
    expect(message(() => parse(registerBody, { email: 'a@b.co', name: 'bad \ud800' }, 'body'))).toMatch(
      /body\.name: must be well-formed/,
    );
    expect(message(() => parse(registerBody, { email: 'a@b.co', name: 'x'.repeat(201) }, 'body'))).toMatch(
      /body\.name/,
    );
  });

  it('parses query parameters into numbers and lists', () => {
    expect(parse(productQuery, { ids: 'a,b', limit: '5', minPrice: '1.50' }, 'query')).toMatchObject({
      ids: ['a', 'b'],
      limit: 5,
      minPrice: 1.5,
    });
    expect(parse(productQuery, {}, 'query')).toMatchObject({ limit: 20 });
  });
});
