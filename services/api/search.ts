/** GET /search?q=…&top_k=…&namespace=…&filter=…: the records nearest to a query, pieces of long ones grouped under them. */
import { awsDependencies } from '../../shared/composition/aws';
import { parseSearchRequest } from '../../shared/domain/search';
import { createHttpHandler } from '../../shared/edges/http';
import type { DependencyProvider } from '../../shared/ports';
import { searchVectors } from '../../shared/usecases/searchVectors';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(async (event, deps) => {
    const request = parseSearchRequest({ ...(event.queryStringParameters ?? {}) }, deps.config.pinecone.namespace);
    return { statusCode: 200, body: await searchVectors(request, deps) };
  }, provide);
}

export const handler = createHandler(awsDependencies);
