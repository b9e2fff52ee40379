/**
 * The AWS APIs local mode serves over HTTP to other processes, as the SDK and the AWS CLI speak
 * them (AWS JSON, the operation in `x-amz-target`): EventBridge PutEvents, so that other systems
 * can publish to the running local product (`npm run publish-event`, or `aws events put-events
 * --endpoint-url http://127.0.0.1:4010 …`), and SQS StartMessageMoveTask, to redrive a consumer's
 * dead-letter queue (`aws sqs start-message-move-task --endpoint-url http://127.0.0.1:4010 …`).
 */
import { createServer, type Server } from 'node:http';
import { closeServer, listen, readBody } from './httpServer';

const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

/** An operation's answer, or a thrown error whose `name` is its AWS error code. */
export type AwsOperation = (request: unknown) => unknown;

export async function startAwsApi(
  operations: Record<string, AwsOperation>,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (request, response) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    // EventBridge speaks AWS JSON 1.1, SQS 1.0.
    const contentType = target.startsWith('AmazonSQS.') ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': contentType });
      response.end(JSON.stringify(body));
    };
    const operation = operations[target];
    if (request.method !== 'POST' || !operation) {
      const served = Object.keys(operations).join(', ');
      return reply(400, { __type: 'UnknownOperationException', message: `only ${served} are served here, not ${target || '(none)'}` });
    }
    let body: Buffer;
    try {
      body = await readBody(request, MAX_REQUEST_BYTES, () => new Error('request too large'));
    } catch (error) {
      return reply(413, { __type: 'ValidationException', message: (error as Error).message });
    }
    try {
      reply(200, await operation(JSON.parse(body.toString('utf8'))));
    } catch (error) {
      const name = (error as Error).name;
      reply(400, { __type: name.endsWith('Exception') ? name : 'SerializationException', message: (error as Error).message });
    }
  });
  const address = await listen(server, port, '127.0.0.1');
  return { url: `http://127.0.0.1:${address.port}`, close: () => closeServer(server) };
}
