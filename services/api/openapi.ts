/** GET /openapi.json: the OpenAPI 3.1 description of every route, with this deployment's base path. */
import { awsDependencies } from '../../shared/composition/aws';
import { createHttpHandler, type HttpEvent } from '../../shared/edges/http';
import type { DependencyProvider } from '../../shared/ports';
import { openApiDocument } from './openapiDocument';

export function createHandler(provide: DependencyProvider) {
  return createHttpHandler(
    async (event) => ({ statusCode: 200, body: { ...openApiDocument, servers: [{ url: basePath(event) }] } }),
    provide,
  );
}

/** API Gateway's request path carries the stage (`/prod/openapi.json`) where the route's path does not. */
function basePath(event: HttpEvent): string {
  const requested = event.requestContext?.path ?? event.path;
  const base = requested.endsWith(event.path) ? requested.slice(0, requested.length - event.path.length) : '';
  return base || '/';
}

export const handler = createHandler(awsDependencies);
