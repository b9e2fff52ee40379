/**
 * The `QuestionSource` port on Metabase's export endpoint, `POST /api/card/:id/query/json`, which
 * has no 2,000-row cap. Its parts: httpClient.ts sends the requests (key, deadlines, retries,
 * error statuses), cardParameters.ts finds the card parameter the start date fills, rowStream.ts
 * parses the rows as they arrive, responseBody.ts reads error and failure bodies, and
 * metabaseError.ts is how it all fails.
 *
 * The parameters go form-encoded (`parameters=<json>`), which every Metabase version accepts; a
 * JSON body only newer ones.
 */
import type { Config } from '../../config';
import type { QuestionSource } from '../../ports';
import { dateParameterFor, type DateParameter } from './cardParameters';
import { createMetabaseClient, type MetabaseClientOptions } from './httpClient';
import { parseRows, type Row } from './rowStream';

export { MetabaseError, type MetabaseErrorKind } from './metabaseError';

export interface MetabaseSourceOptions extends MetabaseClientOptions {
  /** The question's date template tag that `startDate` fills, and the parameter type to send. */
  dateParameter?: DateParameter;
}

export function createMetabaseSource({
  dateParameter = { name: 'start_date', type: 'date/single' },
  ...clientOptions
}: MetabaseSourceOptions): QuestionSource {
  const client = createMetabaseClient(clientOptions);

  async function* rows(questionId: number, options: { startDate?: string } = {}): AsyncGenerator<Row> {
    const { startDate } = options;
    const parameters = startDate === undefined ? undefined : [await dateParameterFor(client, dateParameter, questionId, startDate)];
    const form = new URLSearchParams(parameters ? { parameters: JSON.stringify(parameters) } : {});
    const { response, deadline } = await client.send(
      `/api/card/${questionId}/query/json`,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() },
      questionId,
    );
    try {
      yield* parseRows(response, deadline, questionId);
    } finally {
      deadline.clear();
    }
  }

  return {
    description: `metabase at ${client.base}`,
    rows,
  };
}

/** The configured Metabase, or undefined when METABASE_URL or METABASE_API_KEY is not set. */
export function metabaseFrom(config: Config): QuestionSource | undefined {
  const { url, apiKey, dateParameter } = config.metabase;
  return url && apiKey ? createMetabaseSource({ url, apiKey, dateParameter }) : undefined;
}
