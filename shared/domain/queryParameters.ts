/** Query-string parameters of the read endpoints, each problem an InvalidInputError naming its parameter. Pure. */
import { InvalidInputError } from '../errors';

export type QueryParameters = Record<string, string | undefined>;

/** Refuses parameters the endpoint does not know, so that a typo is not silently ignored. */
export function rejectUnknown(params: QueryParameters, known: readonly string[]): void {
  const unknown = Object.keys(params).filter((name) => !known.includes(name));
  if (unknown.length)
    throw new InvalidInputError(
      `unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}"`).join(', ')}; accepted: ${known.join(', ')}`,
      unknown[0],
    );
}

/** The trimmed value, undefined when absent or empty. */
export function textParameter(params: QueryParameters, name: string): string | undefined {
  return params[name]?.trim() || undefined;
}

/** A whole number within [min, max]; `fallback` when absent. */
export function integerParameter(params: QueryParameters, name: string, range: { min: number; max: number; fallback: number }): number {
  const raw = textParameter(params, name);
  if (raw === undefined) return range.fallback;
  const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max)
    throw new InvalidInputError(`${name} must be a whole number from ${range.min} to ${range.max}; got "${raw}"`, name);
  return value;
}

/** One of `allowed`, or undefined when absent. */
export function choiceParameter<T extends string>(params: QueryParameters, name: string, allowed: readonly T[]): T | undefined {
  const raw = textParameter(params, name);
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw))
    throw new InvalidInputError(`${name} must be one of ${allowed.join(', ')}; got "${raw}"`, name);
  return raw as T;
}
