/**
 * A simulated question as a native card: an optional date template tag used as
 * `WHERE dateColumn >= {{start_date}}`, the card `GET /api/card/:id` describes, and the rows a
 * query returns once the tag's parameter has filtered them.
 */
import { HttpError } from '../http';
import type { MetabaseParameter, MetabaseRow, SimulatedQuestion } from './types';

function tagOf(question: SimulatedQuestion): string | undefined {
  return question.dateColumn === undefined ? undefined : (question.dateTag ?? 'start_date');
}

/** The date the question's template tag is set to, after Metabase's check that every parameter names one of its tags. */
export function dateFilter(cardId: number, question: SimulatedQuestion, parameters: MetabaseParameter[]): string | undefined {
  const tag = tagOf(question);
  let startDate: string | undefined;
  for (const parameter of parameters) {
    const name = templateTagName(parameter.target);
    if (name === undefined || name !== tag) {
      // Metabase formats the card id for the message with digit grouping ("Card 24,009").
      throw new HttpError(500, {
        message: `Invalid parameter: Card ${cardId.toLocaleString('en-US')} does not have a template tag named ${JSON.stringify(name ?? null)}.`,
        'invalid-parameter': parameter,
        'allowed-parameters': tag === undefined ? null : [tag],
      });
    }
    if (typeof parameter.value === 'string') startDate = parameter.value.slice(0, 10);
  }
  return startDate;
}

/** `["variable", ["template-tag", name]]` (a raw value tag) or `["dimension", ["template-tag", name]]` (a field filter). */
function templateTagName(target: unknown): string | undefined {
  if (!Array.isArray(target) || (target[0] !== 'variable' && target[0] !== 'dimension')) return undefined;
  const ref = target[1] as unknown;
  return Array.isArray(ref) && ref[0] === 'template-tag' && typeof ref[1] === 'string' ? ref[1] : undefined;
}

/** The rows whose date (its first ten characters, YYYY-MM-DD) is on or after `startDate`; all of them without one. */
export function* resultRows(
  question: SimulatedQuestion,
  parameters: MetabaseParameter[],
  startDate: string | undefined,
): Iterable<MetabaseRow> {
  const rows = typeof question.rows === 'function' ? question.rows(parameters) : question.rows;
  const column = question.dateColumn;
  for (const row of rows) {
    if (startDate !== undefined && column !== undefined) {
      const value = row[column];
      // As in SQL, a NULL date never satisfies `date >= {{start_date}}`.
      if (value === null || value === undefined || String(value).slice(0, 10) < startDate) continue;
    }
    yield row;
  }
}

/** The card as `GET /api/card/:id` shows it: a native question whose date tag is also a card parameter. */
export function describeCard(id: number, question: SimulatedQuestion): Record<string, unknown> {
  const tag = tagOf(question);
  const tagId = tag === undefined ? undefined : `${id}-${tag}-0000-0000-simulated`;
  const templateTags = tag === undefined ? {} : { [tag]: { id: tagId, name: tag, 'display-name': tag, type: 'date', required: false } };
  return {
    id,
    name: question.name ?? `Question ${id}`,
    type: 'question',
    query_type: 'native',
    dataset_query: {
      type: 'native',
      native: {
        query: `SELECT * FROM records${tag === undefined ? '' : ` [[WHERE ${question.dateColumn} >= {{${tag}}}]]`}`,
        'template-tags': templateTags,
      },
    },
    parameters:
      tag === undefined ? [] : [{ id: tagId, type: 'date/single', target: ['variable', ['template-tag', tag]], name: tag, slug: tag }],
  };
}
