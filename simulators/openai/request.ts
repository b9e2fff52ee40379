/** An embeddings request body, checked in the order the API checks it. */
import { parseJsonObject } from '../http';
import { apiError } from './errors';
import { inputTexts, type Input } from './input';
import { resolveDimensions, type ModelSpec } from './models';
import { requestTokens } from './tokens';

export interface EmbeddingsRequest {
  model: string;
  encodingFormat: 'float' | 'base64';
  dimensions: number;
  inputs: Input[];
  tokens: number;
}

export function parseEmbeddingsRequest(raw: Buffer, models: Map<string, ModelSpec>): EmbeddingsRequest {
  const body = parseJsonObject(raw.toString('utf8'), () =>
    apiError(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
        'The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
    ),
  );
  const model = typeof body.model === 'string' ? body.model : undefined;
  if (!model) throw apiError(400, 'you must provide a model parameter');
  const spec = models.get(model);
  if (!spec) {
    throw apiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, { code: 'model_not_found' });
  }
  const encodingFormat = body.encoding_format ?? 'float';
  if (encodingFormat !== 'float' && encodingFormat !== 'base64') {
    throw apiError(400, `Invalid value for 'encoding_format' = ${String(encodingFormat)}. Supported values are: 'float' and 'base64'.`, {
      param: 'encoding_format',
    });
  }
  const dimensions = resolveDimensions(body.dimensions, spec);
  const inputs = inputTexts(body.input);
  return { model, encodingFormat, dimensions, inputs, tokens: requestTokens(inputs) };
}
