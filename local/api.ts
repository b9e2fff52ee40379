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
    const route = table.get(`${request.method} ${url.pathname}`);
    const send = (statusCode: number, headers: Record<string, string>, body: string) => {
      response.writeHead(statusCode, headers);
      response.end(body);
    };
    if (!route) {
      const allowed = [...table.keys()].filter((key) => key.endsWith(` ${url.pathname}`)).map((key) => key.split(' ')[0]);
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
      const event = proxyEvent(request, url, body);
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

function proxyEvent(request: IncomingMessage, url: URL, body: string | null): APIGatewayProxyEvent {
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
    pathParameters: null,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    stageVariables: null,
    resource: url.pathname,
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
      resourcePath: url.pathname,
      domainName: '127.0.0.1',
    },
  };
}
