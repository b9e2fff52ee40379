/**
 * The request parameter that fills a question's date template tag. Current Metabase versions
 * require each parameter's `id` to be the id of the card parameter it fills (checked against its
 * source), so the card is read first (`GET /api/card/:id`) to find the date parameter's id and target.
 */
import type { MetabaseClient } from './httpClient';
import { MetabaseError } from './metabaseError';
import { bodyText } from './responseBody';

/** The question's date template tag that `startDate` fills, and the parameter type to send. */
export interface DateParameter {
  name: string;
  type: string;
}

interface CardParameter {
  id?: unknown;
  target?: unknown;
  name?: unknown;
  slug?: unknown;
}

/** The request parameter for the date tag, with the id and target the card gives it. */
export async function dateParameterFor(
  client: MetabaseClient,
  { name, type }: DateParameter,
  questionId: number,
  startDate: string,
): Promise<Record<string, unknown>> {
  const { response, deadline } = await client.send(`/api/card/${questionId}`, { method: 'GET' }, questionId);
  let card: unknown;
  try {
    card = JSON.parse(await bodyText(response));
  } catch (error) {
    throw new MetabaseError(
      `Metabase question ${questionId}: GET ${client.base}/api/card/${questionId} did not answer JSON`,
      'bad_response',
      response.status,
      {
        cause: error,
      },
    );
  } finally {
    deadline.clear();
  }
  const found = cardParameter(card, name);
  if (!found) {
    const known = cardParameterNames(card);
    // Metabase would fail the query the same way ("does not have a template tag named …"); this says what to change.
    throw new MetabaseError(
      `Metabase question ${questionId} has no "${name}" parameter to take start_date (its parameters: ${known.length ? known.join(', ') : 'none'}); ` +
        'set METABASE_DATE_PARAMETER to its date template tag',
      'query_failed',
    );
  }
  return { id: found.id, type, target: found.target, value: startDate };
}

function cardParameter(card: unknown, name: string): { id: string; target: unknown } | undefined {
  const { parameters, dataset_query: query } = (card ?? {}) as { parameters?: unknown; dataset_query?: unknown };
  if (Array.isArray(parameters)) {
    for (const parameter of parameters as CardParameter[]) {
      if (typeof parameter.id === 'string' && tagOf(parameter.target) === name) return { id: parameter.id, target: parameter.target };
    }
  }
  // Cards saved before card-level parameters existed list only their template tags.
  const tag = templateTags(query).find((candidate) => candidate.name === name);
  if (tag && typeof tag.id === 'string') {
    return { id: tag.id, target: [tag.type === 'dimension' ? 'dimension' : 'variable', ['template-tag', name]] };
  }
  return undefined;
}

function cardParameterNames(card: unknown): string[] {
  const { parameters, dataset_query: query } = (card ?? {}) as { parameters?: unknown; dataset_query?: unknown };
  const fromParameters = Array.isArray(parameters)
    ? (parameters as CardParameter[]).map((parameter) => tagOf(parameter.target) ?? parameter.slug ?? parameter.name)
    : [];
  const names = [...fromParameters, ...templateTags(query).map((tag) => tag.name)];
  return [...new Set(names.filter((name): name is string => typeof name === 'string'))];
}

/** Template tags of a native query: `native["template-tags"]` (legacy MBQL) or `stages[*]["template-tags"]` (MBQL 5), as a map or a list. */
function templateTags(query: unknown): Array<{ name?: unknown; id?: unknown; type?: unknown }> {
  const { native, stages } = (query ?? {}) as { native?: { 'template-tags'?: unknown }; stages?: Array<{ 'template-tags'?: unknown }> };
  const sources = [native?.['template-tags'], ...(Array.isArray(stages) ? stages.map((stage) => stage?.['template-tags']) : [])];
  return sources.flatMap((tags) => {
    if (Array.isArray(tags)) return tags;
    if (typeof tags === 'object' && tags !== null) return Object.entries(tags).map(([name, tag]) => ({ name, ...(tag as object) }));
    return [];
  });
}

/** The tag name in `["variable"|"dimension", ["template-tag", name]]`. */
function tagOf(target: unknown): string | undefined {
  if (!Array.isArray(target)) return undefined;
  const ref = target[1] as unknown;
  return Array.isArray(ref) && ref[0] === 'template-tag' && typeof ref[1] === 'string' ? ref[1] : undefined;
}
