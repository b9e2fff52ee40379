/**
 * The local bus's PutEvents over HTTP (AWS JSON 1.1, as the SDK and the AWS CLI speak it), so
 * other processes can publish to the running local product: `npm run publish-event`, or
 * `aws events put-events --endpoint-url http://127.0.0.1:4010 …`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PutEventsRequest } from '@aws-sdk/client-eventbridge';
import type { LocalEventBus } from './eventBus';

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
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_REQUEST_BYTES) return reply(413, { __type: 'ValidationException', message: 'request too large' });
      chunks.push(chunk as Buffer);
    }
    try {
      reply(200, await bus.putEvents(JSON.parse(Buffer.concat(chunks).toString('utf8')) as PutEventsRequest));
    } catch (error) {
      reply(400, { __type: (error as Error).name === 'ValidationException' ? 'ValidationException' : 'SerializationException', message: (error as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
