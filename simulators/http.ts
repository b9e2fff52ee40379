/**
 * The node:http side every simulator shares: serving a handler, the error a handler throws to
 * answer with a status, and writing JSON (or plain-text) bodies. Reading a bounded body, listening
 * and closing come from the local servers' plumbing.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen } from '../local/httpServer';

/** A request handler; `closing` is aborted on close(), to cut simulated latency short. */
export type Handler = (req: IncomingMessage, res: ServerResponse, closing: AbortSignal) => Promise<void>;

/** Thrown by a handler to answer with `status` and `body` as the simulated API words it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

export interface ServeOptions {
  port?: number;
  host?: string;
  maxHeaderSize?: number;
}

export interface Served {
  address: AddressInfo;
  close(): Promise<void>;
}

/**
 * Listens (on 127.0.0.1 and a free port by default), counting every request in `stats.requests`;
 * whatever `handle` throws goes to `answerError`.
 */
export async function serve(
  options: ServeOptions,
  stats: { requests: number },
  handle: Handler,
  answerError: (error: unknown, res: ServerResponse) => void,
): Promise<Served> {
  // Cuts latency waits short on close(), so a slow simulated answer cannot outlive its test.
  const closing = new AbortController();
  const serverOptions = options.maxHeaderSize === undefined ? {} : { maxHeaderSize: options.maxHeaderSize };
  const server = createServer(serverOptions, (req, res) => {
    stats.requests++;
    handle(req, res, closing.signal).catch((error: unknown) => answerError(error, res));
  });
  const address = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    address,
    close() {
      closing.abort();
      return closeServer(server);
    },
  };
}

/** Writes `body` as JSON, or as plain text when it is a string, unless the client has gone. */
export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = typeof body === 'string';
  res.writeHead(status, { 'content-type': text ? 'text/plain' : 'application/json', ...headers });
  res.end(text ? body : JSON.stringify(body));
}

/** The JSON value of `text`; `invalid()` is thrown when it is not JSON. */
export function parseJson(text: string, invalid: () => Error): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid();
  }
}

/** The JSON object (not null, not an array) `text` holds; `invalid()` is thrown for anything else. */
export function parseJsonObject(text: string, invalid: () => Error): Record<string, unknown> {
  const value = parseJson(text, invalid);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw invalid();
}
