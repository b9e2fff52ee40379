/**
 * Metadata filters in Pinecone's language (README › Task list, search and OpenAPI), checked and
 * evaluated. Checked at the API, so that a malformed filter is a 400 naming `filter` rather than
 * a provider's refusal; evaluated by the local vector store, whose metadata is JSON with no filter
 * language of its own. Pure: no I/O.
 */
import { InvalidInputError } from '../errors';
import type { Metadata, MetadataFilter, MetadataValue } from '../ports';

type Scalar = string | number | boolean;
type Condition = Scalar | { [operator: string]: unknown };

export const FIELD_OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists'] as const;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isScalar = (value: unknown): value is Scalar =>
  typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));

function fail(path: string, problem: string): never {
  throw new InvalidInputError(`${path} ${problem}`, 'filter');
}

/** The `filter` parameter: JSON text of a filter; each problem names where in it. */
export function parseMetadataFilter(text: string): MetadataFilter {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail('filter', `must be JSON: ${(error as Error).message}`);
  }
  checkFilter(value, 'filter');
  return value as MetadataFilter;
}

function checkFilter(value: unknown, path: string): asserts value is MetadataFilter {
  if (!isObject(value)) fail(path, 'must be a JSON object');
  if (Object.keys(value).length === 0) fail(path, 'must name at least one field, or $and / $or');
  for (const [key, condition] of Object.entries(value)) {
    const at = `${path}.${key}`;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(condition) || condition.length === 0) fail(at, 'must be a non-empty array of filters');
      condition.forEach((entry, i) => checkFilter(entry, `${at}[${i}]`));
    } else if (key.startsWith('$')) {
      fail(at, 'is not allowed here: fields take operators, filters combine with $and and $or');
    } else {
      checkCondition(condition, at);
    }
  }
}

function checkCondition(condition: unknown, path: string): void {
  if (isScalar(condition)) return;
  if (!isObject(condition) || Object.keys(condition).length === 0)
    fail(path, `must be a string, number, boolean or an object of operators (${FIELD_OPERATORS.join(', ')})`);
  for (const [operator, operand] of Object.entries(condition)) {
    const at = `${path}.${operator}`;
    switch (operator) {
      case '$eq':
      case '$ne':
        if (!isScalar(operand)) fail(at, 'must be a string, number or boolean');
        break;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if (typeof operand !== 'number' || !Number.isFinite(operand)) fail(at, 'must be a number');
        break;
      case '$in':
      case '$nin':
        if (!Array.isArray(operand) || operand.length === 0 || !operand.every(isScalar))
          fail(at, 'must be a non-empty array of strings, numbers or booleans');
        break;
      case '$exists':
        if (typeof operand !== 'boolean') fail(at, 'must be true or false');
        break;
      default:
        fail(at, `is not an operator (expected one of ${FIELD_OPERATORS.join(', ')})`);
    }
  }
}

/**
 * Whether a vector's metadata matches a checked filter. As in Pinecone, a list matches a value it
 * contains; a field the metadata lacks matches only `$ne`, `$nin` and `$exists: false`.
 */
export function matchesMetadataFilter(metadata: Metadata, filter: MetadataFilter): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and') return (condition as MetadataFilter[]).every((entry) => matchesMetadataFilter(metadata, entry));
    if (key === '$or') return (condition as MetadataFilter[]).some((entry) => matchesMetadataFilter(metadata, entry));
    return matchesCondition(Object.hasOwn(metadata, key) ? metadata[key] : undefined, condition as Condition);
  });
}

function matchesCondition(value: MetadataValue | undefined, condition: Condition): boolean {
  if (isScalar(condition)) return holds(value, condition);
  return Object.entries(condition).every(([operator, operand]) => {
    switch (operator) {
      case '$eq':
        return holds(value, operand as Scalar);
      case '$ne':
        return !holds(value, operand as Scalar);
      case '$in':
        return (operand as Scalar[]).some((candidate) => holds(value, candidate));
      case '$nin':
        return !(operand as Scalar[]).some((candidate) => holds(value, candidate));
      case '$exists':
        return (value !== undefined) === operand;
      case '$gt':
        return typeof value === 'number' && value > (operand as number);
      case '$gte':
        return typeof value === 'number' && value >= (operand as number);
      case '$lt':
        return typeof value === 'number' && value < (operand as number);
      case '$lte':
        return typeof value === 'number' && value <= (operand as number);
      default:
        return false;
    }
  });
}

/** Equality, where a list holds the value when it contains it. */
function holds(value: MetadataValue | undefined, operand: Scalar): boolean {
  return Array.isArray(value) ? value.includes(operand as string) : value === operand;
}
