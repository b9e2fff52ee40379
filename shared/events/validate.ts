/**
 * Validates event details against the published JSON Schemas (events-schema/), the same contract
 * producers and other systems rely on. Compiled once per container.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { eventSchemas, type EventName } from '../../events-schema';
import { InvalidEventError } from '../errors';
import type { EventDetails } from './types';

let validators: Record<EventName, ValidateFunction> | undefined;

function compiled(): Record<EventName, ValidateFunction> {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    validators = Object.fromEntries(Object.entries(eventSchemas).map(([name, schema]) => [name, ajv.compile(schema)])) as Record<
      EventName,
      ValidateFunction
    >;
  }
  return validators;
}

/** Returns the detail typed as the named event, or throws InvalidEventError naming each problem. */
export function validateEvent<N extends EventName>(name: N, detail: unknown): EventDetails[N] {
  const validate = compiled()[name];
  if (validate(detail)) return detail as EventDetails[N];
  const problems = (validate.errors ?? []).map(
    (error) => `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}${describeParams(error.params)}`,
  );
  throw new InvalidEventError(`${name} event is invalid: ${problems.join('; ')}`, name, problems);
}

function describeParams(params: Record<string, unknown>): string {
  if ('additionalProperty' in params) return ` (${String(params.additionalProperty)})`;
  if ('allowedValues' in params) return ` (${(params.allowedValues as unknown[]).join(', ')})`;
  return '';
}
