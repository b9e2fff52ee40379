/** The embedding models served, and the `dimensions` parameter only the text-embedding-3 models take. */
import { apiError } from './errors';

export interface ModelSpec {
  nativeDimensions: number;
  /** Only the text-embedding-3 models accept `dimensions`. */
  shortenable: boolean;
}

/** The models by name; `smallDimensions` is text-embedding-3-small's native size. */
export function embeddingModels(smallDimensions: number): Map<string, ModelSpec> {
  return new Map<string, ModelSpec>([
    ['text-embedding-3-small', { nativeDimensions: smallDimensions, shortenable: true }],
    ['text-embedding-3-large', { nativeDimensions: 3072, shortenable: true }],
    ['text-embedding-ada-002', { nativeDimensions: 1536, shortenable: false }],
  ]);
}

export function resolveDimensions(requested: unknown, spec: ModelSpec): number {
  if (requested === undefined || requested === null) return spec.nativeDimensions;
  if (!spec.shortenable) throw apiError(400, 'This model does not support specifying dimensions.', { param: 'dimensions' });
  if (!Number.isInteger(requested)) {
    throw apiError(400, `Invalid type for 'dimensions': expected an integer, but got ${typeof requested} instead.`, {
      param: 'dimensions',
      code: 'invalid_type',
    });
  }
  const value = requested as number;
  if (value < 1) {
    throw apiError(400, `Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got ${value} instead.`, {
      param: 'dimensions',
      code: 'integer_below_min_value',
    });
  }
  if (value > spec.nativeDimensions) {
    throw apiError(
      400,
      `Invalid 'dimensions': integer above maximum value. Expected a value <= ${spec.nativeDimensions}, but got ${value} instead.`,
      {
        param: 'dimensions',
        code: 'integer_above_max_value',
      },
    );
  }
  return value;
}
