/**
 * Pinecone's metadata filter language on query: `{field: value}`, `$eq`, `$ne`, `$gt`, `$gte`,
 * `$lt`, `$lte`, `$in`, `$nin`, `$exists`, `$and`, `$or`. A list value matches a value it holds. A
 * malformed filter is a 400, as Pinecone answers it.
 */
import { badRequest } from './errors';
import type { SimulatedMetadataValue } from './types';

type Metadata = Record<string, SimulatedMetadataValue>;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isScalar = (value: unknown) => ['string', 'number', 'boolean'].includes(typeof value);

/** Whether `metadata` passes `filter`; throws a 400 for a filter Pinecone would refuse. */
export function passesFilter(metadata: Metadata | undefined, filter: unknown): boolean {
  if (!isPlainObject(filter)) throw badRequest('Invalid request: filter must be an object.');
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(condition)) throw badRequest(`Invalid request: ${key} takes an array of filters.`);
      const results = condition.map((entry) => passesFilter(metadata, entry));
      return key === '$and' ? results.every(Boolean) : results.some(Boolean);
    }
    const value = metadata?.[key];
    if (isScalar(condition)) return contains(value, condition);
    if (!isPlainObject(condition)) throw badRequest(`Invalid request: bad filter for field ${key}.`);
    return Object.entries(condition).every(([operator, operand]) => applies(operator, operand, value));
  });
}

function applies(operator: string, operand: unknown, value: SimulatedMetadataValue | undefined): boolean {
  const numeric = () => {
    if (typeof operand !== 'number') throw badRequest(`Invalid request: ${operator} takes a number.`);
    return typeof value === 'number' ? value : undefined;
  };
  const list = () => {
    if (!Array.isArray(operand)) throw badRequest(`Invalid request: ${operator} takes an array.`);
    return operand;
  };
  switch (operator) {
    case '$eq':
      return contains(value, operand);
    case '$ne':
      return !contains(value, operand);
    case '$in':
      return list().some((candidate) => contains(value, candidate));
    case '$nin':
      return !list().some((candidate) => contains(value, candidate));
    case '$exists':
      return (value !== undefined) === operand;
    case '$gt': {
      const n = numeric();
      return n !== undefined && n > (operand as number);
    }
    case '$gte': {
      const n = numeric();
      return n !== undefined && n >= (operand as number);
    }
    case '$lt': {
      const n = numeric();
      return n !== undefined && n < (operand as number);
    }
    case '$lte': {
      const n = numeric();
      return n !== undefined && n <= (operand as number);
    }
    default:
      throw badRequest(`Invalid request: unknown filter operator ${operator}.`);
  }
}

function contains(value: SimulatedMetadataValue | undefined, operand: unknown): boolean {
  return Array.isArray(value) ? value.includes(operand as string) : value === operand;
}
