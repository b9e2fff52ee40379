/**
 * The Metabase source adapter against the Metabase simulator: rows streamed from the export
 * endpoint, the date parameter, and every way Metabase fails.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createMetabaseSource,
  MetabaseError,
  type MetabaseErrorKind,
  type MetabaseSourceOptions,
} from '../../../../../shared/adapters/metabase/metabaseSource';
import { startMetabaseSimulator, type MetabaseRow, type MetabaseSimulator } from '../../../../../simulators/metabase';
import { recordingLogger } from '../../../../helpers/fakes';

const KEY = 'mb_adapter_test_key';
const ROWS: MetabaseRow[] = [
  { id: 'a1', formatted_text: '<p>Ünïcode &amp; "quotes"</p>', created_at: '2024-12-31T08:00:00Z', tags: ['x', 'y'], price: 1.5 },
  { id: 'a2', formatted_text: 'second', created_at: '2025-01-01T00:00:00Z', tags: [], price: null },
  { id: 'a3', formatted_text: 'third', created_at: '2025-02-10', tags: ['z'], price: 0 },
];

async function collect(rows: AsyncIterable<Record<string, unknown>>): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

/** Iterates to the end and returns the MetabaseError thrown, with the rows yielded before it. */
async function failureOf(rows: AsyncIterable<Record<string, unknown>>): Promise<{ error: MetabaseError; yielded: number }> {
  let yielded = 0;
  try {
    for await (const _ of rows) yielded++;
  } catch (error) {
    if (error instanceof MetabaseError) return { error, yielded };
    throw error;
  }
  throw new Error(`expected the iteration to fail, it yielded ${yielded} rows`);
}

/** A port nothing listens on: a server's, closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('createMetabaseSource', () => {
  let sim: MetabaseSimulator;
  const source = (options: Partial<MetabaseSourceOptions> = {}) =>
    createMetabaseSource({ url: sim.url, apiKey: KEY, retryBaseMs: 5, ...options });

  beforeAll(async () => {
    sim = await startMetabaseSimulator({ apiKey: KEY, questions: { 232: { rows: ROWS, dateColumn: 'created_at' } } });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  describe('rows', () => {
    it('yields every row of the question in order, values intact, sending no parameters without a start date', async () => {
      expect(await collect(source().rows(232, {}))).toEqual(ROWS);
      expect(sim.stats.lastParameters).toBeUndefined();
      expect(sim.stats.requests).toBe(1);
    });

    it('fills the date template tag with start_date, using the id and target the card gives the parameter', async () => {
      const rows = await collect(source().rows(232, { startDate: '2025-01-01' }));

      expect(rows.map((row) => row.id)).toEqual(['a2', 'a3']);
      expect(sim.stats.lastParameters).toEqual([
        {
          id: '232-start_date-0000-0000-simulated',
          type: 'date/single',
          target: ['variable', ['template-tag', 'start_date']],
          value: '2025-01-01',
        },
      ]);
    });

    it('uses the configured parameter name and type', async () => {
      sim.setQuestion(30, { rows: ROWS, dateColumn: 'created_at', dateTag: 'since' });
      const rows = await collect(
        source({ dateParameter: { name: 'since', type: 'date/all-options' } }).rows(30, { startDate: '2025-02-01' }),
      );

      expect(rows.map((row) => row.id)).toEqual(['a3']);
      expect(sim.stats.lastParameters).toEqual([
        expect.objectContaining({ type: 'date/all-options', target: ['variable', ['template-tag', 'since']] }),
      ]);
    });

    it('takes the date parameter from the template tags of a card that lists no parameters', async () => {
      sim.setQuestion(31, { rows: ROWS, dateColumn: 'created_at' });
      const withoutParameters: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (!String(input).endsWith('/api/card/31')) return response;
        const card = (await response.json()) as Record<string, unknown>;
        return Response.json({ ...card, parameters: [] });
      };
      const rows = await collect(source({ fetchImpl: withoutParameters }).rows(31, { startDate: '2025-01-01' }));

      expect(rows.map((row) => row.id)).toEqual(['a2', 'a3']);
      expect(sim.stats.lastParameters).toEqual([expect.objectContaining({ id: '31-start_date-0000-0000-simulated' })]);
    });

    it('ends without error when the question has no rows', async () => {
      sim.setQuestion(32, { rows: [] });
      expect(await collect(source().rows(32, {}))).toEqual([]);
    });
  });

  describe('errors', () => {
    const kindAndMessage = async (rows: AsyncIterable<Record<string, unknown>>): Promise<[MetabaseErrorKind, string]> => {
      const { error } = await failureOf(rows);
      return [error.kind, error.message];
    };

    it('names a rejected API key (401), without retrying', async () => {
      expect(await kindAndMessage(source({ apiKey: 'mb_wrong' }).rows(232, {}))).toEqual([
        'unauthorized',
        'Metabase rejected METABASE_API_KEY (HTTP 401)',
      ]);
      expect(sim.stats.requests).toBe(1);
    });

    it('names a question the key may not read (403)', async () => {
      sim.setQuestion(33, { rows: ROWS, forbidden: true });
      expect(await kindAndMessage(source().rows(33, {}))).toEqual([
        'unauthorized',
        "Metabase rejected METABASE_API_KEY for question 33 (HTTP 403): You don't have permissions to do that.",
      ]);
      expect(sim.stats.requests).toBe(1);
    });

    it.each([{}, { startDate: '2025-01-01' }])('names an unknown question (404), with options %j', async (options) => {
      expect(await kindAndMessage(source().rows(404, options))).toEqual(['not_found', 'Metabase has no question 404 (HTTP 404)']);
      expect(sim.stats.requests).toBe(1);
    });

    it.each([202, 200])('reports a query that failed with HTTP %d and a failure body, without retrying', async (status) => {
      sim.setQuestion(34, { rows: ROWS, failWith: 'ERROR: column "created_at" does not exist', failStatus: status });
      const { error, yielded } = await failureOf(source().rows(34, {}));

      expect([error.kind, error.message, error.status]).toEqual([
        'query_failed',
        'Metabase question 34 failed: ERROR: column "created_at" does not exist',
        status,
      ]);
      expect(yielded).toBe(0);
      expect(sim.stats.requests).toBe(1);
    });

    it('reports a query failure answered 500 (newer Metabase) as the failure, without retrying', async () => {
      sim.setQuestion(35, { rows: ROWS, failWith: 'Query exceeded the timeout', failStatus: 500 });
      expect(await kindAndMessage(source().rows(35, {}))).toEqual([
        'query_failed',
        'Metabase question 35 failed: Query exceeded the timeout',
      ]);
      expect(sim.stats.requests).toBe(1);
    });

    it('reports a failure appended after some rows, having yielded only real rows', async () => {
      sim.setQuestion(36, { rows: ROWS, failWith: 'connection to the warehouse lost', failAfterRows: 2 });
      const { error, yielded } = await failureOf(source().rows(36, {}));

      expect([error.kind, error.message]).toEqual(['query_failed', 'Metabase question 36 failed: connection to the warehouse lost']);
      expect(yielded).toBeLessThanOrEqual(2);
    });

    it('never yields a failure object that arrives where the first row should be', async () => {
      sim.setQuestion(37, { rows: ROWS, failWith: 'canceled', failAfterRows: 0 });
      const { error, yielded } = await failureOf(source().rows(37, {}));

      expect([error.kind, error.message]).toEqual(['query_failed', 'Metabase question 37 failed: canceled']);
      expect(yielded).toBe(0);
    });

    it('reports a body cut off mid-array as broken off (worth reading again), never as a short result', async () => {
      sim.setQuestion(38, { rows: ROWS, truncateAfterRows: 2 });
      const { error } = await failureOf(source().rows(38, {}));

      expect(error.kind).toBe('broken_off');
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/^Metabase question 38: the response broke off after \d rows .*the query may have failed mid-stream$/);
    });

    it('says which parameter the question lacks', async () => {
      sim.setQuestion(39, { rows: ROWS, dateColumn: 'created_at', dateTag: 'since' });
      expect(await kindAndMessage(source().rows(39, { startDate: '2025-01-01' }))).toEqual([
        'query_failed',
        'Metabase question 39 has no "start_date" parameter to take start_date (its parameters: since); set METABASE_DATE_PARAMETER to its date template tag',
      ]);
    });

    it('retries an unreachable host, then names it', async () => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      let calls = 0;
      const counting: typeof fetch = (input, init) => {
        calls++;
        return fetch(input, init);
      };
      const logger = recordingLogger();
      const { error } = await failureOf(
        createMetabaseSource({ url, apiKey: KEY, fetchImpl: counting, connectRetries: 2, retryBaseMs: 5, logger }).rows(232, {}),
      );

      expect(calls).toBe(3);
      expect(logger.entries.map((entry) => entry.extra[0])).toEqual(
        [1, 2].map((attempt) =>
          expect.objectContaining({ attempt, reason: `no answer: connect ECONNREFUSED ${url.slice('http://'.length)}` }),
        ),
      );
      expect(error.kind).toBe('unreachable');
      expect(error.retryable).toBe(true);
      expect(error.message).toBe(
        `Metabase at ${url} is unreachable: connect ECONNREFUSED ${url.slice('http://'.length)} (after 3 attempts)`,
      );
    });

    it('gives up on a Metabase that does not answer in time', async () => {
      const slow = await startMetabaseSimulator({ apiKey: KEY, latencyMs: 2000, questions: { 1: { rows: ROWS } } });
      try {
        const { error } = await failureOf(
          createMetabaseSource({ url: slow.url, apiKey: KEY, timeoutMs: 50, connectRetries: 0 }).rows(1, {}),
        );
        expect([error.kind, error.message]).toEqual(['unreachable', `Metabase at ${slow.url} is unreachable: no answer within 50 ms`]);
      } finally {
        await slow.close();
      }
    });

    it('retries a 5xx from in front of Metabase and then streams the rows', async () => {
      let calls = 0;
      const flaky: typeof fetch = async (input, init) => {
        calls++;
        return calls <= 2 ? new Response('<html>502 Bad Gateway</html>', { status: 502 }) : fetch(input, init);
      };
      const logger = recordingLogger();
      expect(await collect(source({ fetchImpl: flaky, logger }).rows(232, {}))).toEqual(ROWS);
      expect(calls).toBe(3);
      expect(logger.entries).toEqual(
        [1, 2].map((attempt) => ({
          level: 'warn',
          message: 'Metabase question 232 failed; retrying',
          extra: [{ attempt, attempts: 4, retry_in_ms: expect.any(Number), reason: 'HTTP 502' }],
        })),
      );
    });

    it('names a 5xx that outlasts the retries', async () => {
      const down: typeof fetch = async () => new Response('<html>503 Service Unavailable</html>', { status: 503 });
      expect(await kindAndMessage(source({ fetchImpl: down, connectRetries: 1 }).rows(232, {}))).toEqual([
        'unreachable',
        `Metabase at ${sim.url} is unreachable: HTTP 503 (after 2 attempts)`,
      ]);
    });

    it('retries a 5xx that says why, then reports what it said', async () => {
      let calls = 0;
      const busy: typeof fetch = async () => {
        calls++;
        return Response.json({ message: 'Too many connections' }, { status: 503 });
      };
      expect(await kindAndMessage(source({ fetchImpl: busy, connectRetries: 1 }).rows(232, {}))).toEqual([
        'query_failed',
        'Metabase question 232 failed: Too many connections (after 2 attempts)',
      ]);
      expect(calls).toBe(2);
    });

    it('reports a body that is neither rows nor a failure', async () => {
      const proxy: typeof fetch = async () => new Response('<html>Sign in</html>', { status: 200 });
      expect(await kindAndMessage(source({ fetchImpl: proxy }).rows(232, {}))).toEqual([
        'bad_response',
        'Metabase question 232: expected a JSON array of rows, got "<html>Sign in</html>"',
      ]);
    });
  });

  describe('a large result', () => {
    const total = 200_000;
    const row = (id: number): MetabaseRow => ({
      id: `rec-${id}`,
      formatted_text: `<p>Record ${id} &amp; a description about as long as a product blurb tends to be in practice.</p>`,
      created_at: '2025-01-02T03:04:05Z',
      category: 'books',
      price: id * 1.5,
    });

    beforeAll(() => {
      sim.setQuestion(40, {
        rows: function* () {
          for (let id = 0; id < total; id++) yield row(id);
        },
      });
    });

    it('is iterated in order as it streams, with memory that does not grow with the row count', async () => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const heap = (): number => {
        gc();
        return process.memoryUsage().heapUsed;
      };
      let count = 0;
      let inOrder = true;
      let streamedAtFirstRow = 0;
      let baseline = 0;
      let peakGrowth = 0;
      for await (const record of source().rows(40, {})) {
        if (count === 0) streamedAtFirstRow = sim.stats.rowsStreamed;
        if (record.id !== `rec-${count}`) inOrder = false;
        count++;
        if (count === 10_000) baseline = heap();
        if (count % 40_000 === 0) peakGrowth = Math.max(peakGrowth, heap() - baseline);
      }

      expect(count).toBe(total);
      expect(inOrder).toBe(true);
      // The first row arrives while most of the body is still unwritten: the adapter parses as it reads.
      expect(streamedAtFirstRow).toBeLessThan(total / 2);
      // Holding the rows would take ~100 MB; streaming keeps to the parser's and sockets' buffers.
      expect(peakGrowth).toBeLessThan(24 * 1024 * 1024);
    });
  });
});
