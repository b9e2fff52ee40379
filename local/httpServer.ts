/** node:http plumbing shared by the local servers and the provider simulators. */
import type { createServer, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

type Server = ReturnType<typeof createServer>;

/** Reads a request body, failing with `tooLarge()` past `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

/** Also drops kept-alive client connections, which would otherwise hold `close()` open. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
