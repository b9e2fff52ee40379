/**
 * The REST API of local mode: a node:http server that turns each request into the API Gateway
 * (REST, proxy) event the deployed functions receive and answers with their result.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { closeServer, listen, readBody } from './httpServer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { lambdaContext } from './sqs';
import type { HttpWiring } from '../infra/wiring';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LocalApi {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function startLocalApi(
  routes: { wiring: HttpWiring; handler: ApiHandler }[],
  port: number,
  region: string,
): Promise<LocalApi> {
  const table = new Map<string, { wiring: HttpWiring; handler: ApiHandler }>();
  for (const route of routes) for (const { method, path } of route.wiring.routes) table.set(`${method} ${path}`, route);

  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const matches = matchingRoutes([...table.keys()], url.pathname);
    const matched = matches.find(({ key }) => key.startsWith(`${request.method} `));
    const route = matched && table.get(matched.key);
    const send = (statusCode: number, headers: Record<string, string>, body: string) => {
      response.writeHead(statusCode, headers);
      response.end(body);
    };
    if (!route) {
      const allowed = matches.map(({ key }) => key.split(' ')[0]);
      // API Gateway answers an unknown route with 403 "Missing Authentication Token".
      return allowed.length
        ? send(
            405,
            { 'content-type': 'application/json', allow: allowed.join(', ') },
            JSON.stringify({ error: `use ${allowed.join(' or ')} ${url.pathname}` }),
          )
        : send(
            404,
            { 'content-type': 'application/json' },
            JSON.stringify({ error: `no route ${request.method} ${url.pathname}; routes: ${[...table.keys()].join(', ')}` }),
          );
    }
    try {
      const raw = await readBody(request, MAX_BODY_BYTES, () => new Error('body too large'));
      const body = raw.length ? raw.toString('utf8') : null;
      const event = proxyEvent(request, url, body, matched);
      const result = await route.handler(
        event,
        lambdaContext(
          region,
          { functionName: route.wiring.name, memorySize: route.wiring.memorySize },
          Date.now() + route.wiring.timeout * 1000,
        ),
      );
      send(result.statusCode, { ...(result.headers as Record<string, string>) }, result.body);
    } catch (error) {
      const tooLarge = (error as Error).message === 'body too large';
      send(
        tooLarge ? 413 : 500,
        { 'content-type': 'application/json' },
        JSON.stringify({ error: tooLarge ? `request body over ${MAX_BODY_BYTES} bytes` : 'internal error' }),
      );
    }
  });
  const address = await listen(server, port, '127.0.0.1');
  return { url: `http://127.0.0.1:${address.port}`, close: () => closeServer(server) };
}

/**
 * The routes (`METHOD /path`) whose path matches, static ones first as API Gateway prefers them;
 * a `{name}` part takes one non-empty segment, decoded into the path parameters.
 */
function matchingRoutes(keys: string[], pathname: string): RouteMatch[] {
  const segments = pathname.split('/');
  const matches: RouteMatch[] = [];
  for (const key of keys) {
    const resource = key.slice(key.indexOf(' ') + 1);
    const parts = resource.split('/');
    if (parts.length !== segments.length) continue;
    const pathParameters: Record<string, string> = {};
    const fits = parts.every((part, i) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (!name) return part === segments[i];
      if (!segments[i]) return false;
      pathParameters[name] = decodeSegment(segments[i]);
      return true;
    });
    if (fits) matches.push({ key, resource, pathParameters: Object.keys(pathParameters).length ? pathParameters : null });
  }
  return matches.sort((a, b) => Number(a.resource.includes('{')) - Number(b.resource.includes('{')));
}

interface RouteMatch {
  key: string;
  /** The route's path as declared, e.g. `/tasks/{task_id}` (API Gateway's `resource`). */
  resource: string;
  pathParameters: Record<string, string> | null;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function proxyEvent(request: IncomingMessage, url: URL, body: string | null, route: RouteMatch): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  return {
    body,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    httpMethod: request.method ?? 'GET',
    isBase64Encoded: false,
    path: url.pathname,
    pathParameters: route.pathParameters,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    stageVariables: null,
    resource: route.resource,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: request.method ?? 'GET',
      identity: {
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? null,
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: route.resource,
      domainName: '127.0.0.1',
    },
  };
}
