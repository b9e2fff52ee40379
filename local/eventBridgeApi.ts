/**
 * The local bus's PutEvents over HTTP (AWS JSON 1.1, as the SDK and the AWS CLI speak it), so
 * other processes can publish to the running local product: `npm run publish-event`, or
 * `aws events put-events --endpoint-url http://127.0.0.1:4010 …`.
 */
import { createServer, type Server } from 'node:http';
import type { PutEventsRequest } from '@aws-sdk/client-eventbridge';
import type { LocalEventBus } from './eventBus';
import { closeServer, listen, readBody } from './httpServer';

const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

export async function startEventBridgeApi(bus: LocalEventBus, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(body));
    };
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || target !== 'AWSEvents.PutEvents') {
      return reply(400, { __type: 'UnknownOperationException', message: `only AWSEvents.PutEvents is served here, not ${String(target)}` });
    }
    let body: Buffer;
    try {
      body = await readBody(request, MAX_REQUEST_BYTES, () => new Error('request too large'));
    } catch (error) {
      return reply(413, { __type: 'ValidationException', message: (error as Error).message });
    }
    try {
      reply(200, await bus.putEvents(JSON.parse(body.toString('utf8')) as PutEventsRequest));
    } catch (error) {
      reply(400, {
        __type: (error as Error).name === 'ValidationException' ? 'ValidationException' : 'SerializationException',
        message: (error as Error).message,
      });
    }
  });
  const address = await listen(server, port, '127.0.0.1');
  return { url: `http://127.0.0.1:${address.port}`, close: () => closeServer(server) };
}
