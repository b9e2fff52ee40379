/** An upserted record as Pinecone checks it: id length, dense values of the index dimension, metadata types and size. */
import { badRequest } from './errors';
import { MAX_ID_LENGTH, MAX_METADATA_BYTES } from './limits';
import type { SimulatedMetadataValue, StoredVector } from './types';

export function validateRecord(value: unknown, dimension: number): StoredVector {
  if (value === null || typeof value !== 'object') throw badRequest('Invalid request: each vector must be an object.');
  const { id, values, sparseValues, metadata } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id.length < 1 || id.length > MAX_ID_LENGTH) {
    const length = typeof id === 'string' ? id.length : 0;
    throw badRequest(`Vector ID must be between 1 and ${MAX_ID_LENGTH} characters long, got ${length}.`);
  }
  if (sparseValues !== undefined) throw badRequest('Sparse vectors are not supported by this dense index (metric cosine).');
  if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw badRequest(`Vector ${id}: values must be a list of numbers.`);
  }
  if (values.length !== dimension)
    throw badRequest(`Vector dimension ${values.length} does not match the dimension of the index ${dimension}`);
  if (!values.some((v) => v !== 0)) throw badRequest('Dense vectors must contain at least one non-zero value.');
  const record: StoredVector = { id, values: values.map((v: number) => Math.fround(v)) };
  if (metadata !== undefined && metadata !== null) {
    record.metadata = validateMetadata(metadata);
  }
  return record;
}

function validateMetadata(value: unknown): Record<string, SimulatedMetadataValue> {
  if (typeof value !== 'object' || Array.isArray(value) || value === null) throw badRequest('Metadata must be a JSON object.');
  const metadata = value as Record<string, unknown>;
  for (const [field, item] of Object.entries(metadata)) {
    const valid =
      typeof item === 'string' ||
      typeof item === 'boolean' ||
      (typeof item === 'number' && Number.isFinite(item)) ||
      (Array.isArray(item) && item.every((element) => typeof element === 'string'));
    if (!valid) {
      throw badRequest(
        `Metadata value must be a string, number, boolean or list of strings, got '${JSON.stringify(item)}' for field '${field}'`,
      );
    }
  }
  const size = metadataBytes(metadata);
  if (size > MAX_METADATA_BYTES)
    throw badRequest(`Metadata size is ${size} bytes, which exceeds the limit of ${MAX_METADATA_BYTES} bytes per vector`);
  return metadata as Record<string, SimulatedMetadataValue>;
}

export function metadataBytes(metadata: unknown): number {
  return metadata === undefined ? 0 : Buffer.byteLength(JSON.stringify(metadata));
}
