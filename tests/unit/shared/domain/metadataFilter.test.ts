/** Metadata filters in Pinecone's language: each malformed part named, and evaluated as Pinecone evaluates them. */
import { matchesMetadataFilter, parseMetadataFilter } from '../../../../shared/domain/metadataFilter';
import { InvalidInputError } from '../../../../shared/errors';
import type { Metadata } from '../../../../shared/ports';

const shoe: Metadata = { kind: 'shoe', price: 30, live: true, tags: ['red', 'sale'] };
const matches = (filter: string, metadata: Metadata = shoe) => matchesMetadataFilter(metadata, parseMetadataFilter(filter));

describe('parseMetadataFilter', () => {
  it.each([
    ['[1]', /filter must be a JSON object/],
    ['{}', /filter must name at least one field/],
    ['{"kind": null}', /filter\.kind must be a string, number, boolean or an object of operators/],
    ['{"kind": {}}', /filter\.kind must be a string/],
    ['{"price": {"$gt": "10"}}', /filter\.price\.\$gt must be a number/],
    ['{"kind": {"$in": []}}', /filter\.kind\.\$in must be a non-empty array/],
    ['{"kind": {"$in": [{"a": 1}]}}', /filter\.kind\.\$in must be a non-empty array of strings/],
    ['{"kind": {"$exists": 1}}', /filter\.kind\.\$exists must be true or false/],
    ['{"$and": {"kind": "shoe"}}', /filter\.\$and must be a non-empty array of filters/],
    ['{"$or": [{"kind": "shoe"}, 3]}', /filter\.\$or\[1\] must be a JSON object/],
    ['{"$not": {"kind": "shoe"}}', /filter\.\$not is not allowed here/],
  ])('refuses %s, naming where', (text, message) => {
    expect(() => parseMetadataFilter(text)).toThrow(InvalidInputError);
    expect(() => parseMetadataFilter(text)).toThrow(expect.objectContaining({ field: 'filter', message: expect.stringMatching(message) }));
  });
});

describe('matchesMetadataFilter', () => {
  it('takes a bare value as $eq, and a list as holding the values it contains', () => {
    expect(matches('{"kind": "shoe"}')).toBe(true);
    expect(matches('{"kind": "hat"}')).toBe(false);
    expect(matches('{"tags": "sale"}')).toBe(true);
    expect(matches('{"tags": {"$in": ["blue", "red"]}}')).toBe(true);
    expect(matches('{"tags": {"$nin": ["sale"]}}')).toBe(false);
    expect(matches('{"tags": {"$ne": "blue"}}')).toBe(true);
  });

  it('compares numbers only, and ANDs the operators of one field and the fields of one filter', () => {
    expect(matches('{"price": {"$gt": 10, "$lte": 30}}')).toBe(true);
    expect(matches('{"price": {"$gt": 10, "$lt": 30}}')).toBe(false);
    expect(matches('{"kind": {"$gt": 1}}')).toBe(false);
    expect(matches('{"kind": "shoe", "live": false}')).toBe(false);
  });

  it('combines filters with $and and $or', () => {
    expect(matches('{"$or": [{"kind": "hat"}, {"price": {"$gte": 30}}]}')).toBe(true);
    expect(matches('{"$and": [{"kind": "shoe"}, {"$or": [{"live": false}, {"tags": "new"}]}]}')).toBe(false);
  });

  it('lets a missing field match only $ne, $nin and $exists: false', () => {
    expect(matches('{"colour": {"$ne": "red"}}')).toBe(true);
    expect(matches('{"colour": {"$nin": ["red"]}}')).toBe(true);
    expect(matches('{"colour": {"$exists": false}}')).toBe(true);
    expect(matches('{"colour": {"$exists": true}}')).toBe(false);
    expect(matches('{"colour": {"$in": ["red"]}}')).toBe(false);
    expect(matches('{"colour": {"$lt": 1}}')).toBe(false);
    expect(matches('{"toString": {"$exists": true}}')).toBe(false);
  });
});
