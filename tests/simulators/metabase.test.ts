/**
 * The Metabase simulator's wire behaviour, driven with raw fetch so that what is on the wire
 * (status, content type, body bytes) is what gets checked.
 */
import { startMetabaseSimulator, type MetabaseRow, type MetabaseSimulator } from '../../simulators/metabase';

const KEY = 'mb_simulator_test_key';
const PEOPLE: MetabaseRow[] = [
  { id: 1, formatted_text: 'Ada, "the first"', created_at: '2024-12-31T23:59:59Z' },
  { id: 2, formatted_text: 'Grace', created_at: '2025-01-01T00:00:00Z' },
  { id: 3, formatted_text: 'Edsger', created_at: null },
  { id: 4, formatted_text: 'Barbara', created_at: '2025-03-02' },
];
const dateParameter = (value: string, tag = 'start_date', id = `232-${tag}`) => ({
  id,
  type: 'date/single',
  target: ['variable', ['template-tag', tag]],
  value,
});

describe('Metabase simulator', () => {
  let sim: MetabaseSimulator;

  const post = (path: string, init: { body?: string; form?: boolean; key?: string | null } = {}) =>
    fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: {
        ...(init.key === null ? {} : { 'x-api-key': init.key ?? KEY }),
        ...(init.body === undefined ? {} : { 'content-type': init.form ? 'application/x-www-form-urlencoded' : 'application/json' }),
      },
      body: init.body,
    });
  const postJson = (path: string, body: unknown) => post(path, { body: JSON.stringify(body) });
  const postForm = (path: string, fields: Record<string, string>) =>
    post(path, { body: new URLSearchParams(fields).toString(), form: true });

  beforeAll(async () => {
    sim = await startMetabaseSimulator({
      apiKey: KEY,
      questions: {
        232: { rows: PEOPLE, dateColumn: 'created_at' },
        7: { rows: PEOPLE },
      },
    });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  describe('JSON export', () => {
    it('answers every row as an array of objects keyed by column, written the way Metabase writes it', async () => {
      const response = await post('/api/card/7/query/json');
      const text = await response.text();

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="query_result_.+\.json"$/);
      expect(text).toBe(`[\n${PEOPLE.map((row) => JSON.stringify(row)).join(',\n')}\n]`);
      expect(sim.stats.lastParameters).toBeUndefined();
    });

    it('answers an empty array when the question has no rows', async () => {
      sim.setQuestion(8, { rows: [] });
      const response = await post('/api/card/8/query/json');
      expect(response.status).toBe(200);
      expect(JSON.parse(await response.text())).toEqual([]);
    });

    it('projects rows onto the question columns, in their order, with nulls for missing values', async () => {
      sim.setQuestion(9, { rows: [{ b: 1, a: 2, extra: 3 }, { a: 4 }], columns: ['a', 'b'] });
      const rows = (await (await post('/api/card/9/query/json')).json()) as MetabaseRow[];
      expect(rows.map((row) => Object.entries(row))).toEqual([
        [
          ['a', 2],
          ['b', 1],
        ],
        [
          ['a', 4],
          ['b', null],
        ],
      ]);
    });
  });

  describe('parameters', () => {
    const filtered = PEOPLE.filter((row) => row.id === 2 || row.id === 4);

    it('takes them as a JSON body and filters on the date template tag (created_at >= start_date; NULL never matches)', async () => {
      const response = await postJson('/api/card/232/query/json', { parameters: [dateParameter('2025-01-01')] });
      expect(await response.json()).toEqual(filtered);
      expect(sim.stats.lastParameters).toEqual([dateParameter('2025-01-01')]);
    });

    it('takes them as a form field holding JSON, as Metabase download buttons send them', async () => {
      const response = await postForm('/api/card/232/query/json', { parameters: JSON.stringify([dateParameter('2025-01-01')]) });
      expect(await response.json()).toEqual(filtered);
    });

    it('takes a JSON body whose parameters is a JSON string', async () => {
      const response = await postJson('/api/card/232/query/json', { parameters: JSON.stringify([dateParameter('2025-01-01')]) });
      expect(await response.json()).toEqual(filtered);
    });

    it('returns every row when the date tag is not set', async () => {
      expect(await (await postJson('/api/card/232/query/json', { parameters: [] })).json()).toEqual(PEOPLE);
    });

    it('hands the parameters to a rows function', async () => {
      const seen: unknown[] = [];
      sim.setQuestion(10, {
        dateColumn: 'created_at',
        rows: (parameters) => {
          seen.push(parameters);
          return PEOPLE;
        },
      });
      await (await postJson('/api/card/10/query/json', { parameters: [dateParameter('2025-03-01', 'start_date', 'x')] })).text();
      expect(seen).toEqual([[dateParameter('2025-03-01', 'start_date', 'x')]]);
    });

    it('rejects a parameter for a template tag the question does not have with a 500, as Metabase does', async () => {
      const response = await postJson('/api/card/232/query/json', { parameters: [dateParameter('2025-01-01', 'since')] });
      const body = (await response.json()) as { message: string };
      expect(response.status).toBe(500);
      expect(body.message).toBe('Invalid parameter: Card 232 does not have a template tag named "since".');
    });

    it('rejects a parameter without an id, which current Metabase requires', async () => {
      const { id: _id, ...withoutId } = dateParameter('2025-01-01');
      const response = await postJson('/api/card/232/query/json', { parameters: [withoutId] });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toBe('parameters[0].id: missing required key, received: nil');
    });

    it('rejects parameters that are not JSON', async () => {
      const response = await postForm('/api/card/232/query/json', { parameters: '[{' });
      expect(response.status).toBe(400);
    });
  });

  describe('the card', () => {
    it('shows its date parameter with the id and target a request must use', async () => {
      const response = await fetch(`${sim.url}/api/card/232`, { headers: { 'x-api-key': KEY } });
      const card = (await response.json()) as {
        parameters: Array<{ id: string; target: unknown }>;
        dataset_query: { native: { 'template-tags': object } };
      };
      expect(response.status).toBe(200);
      expect(card.parameters).toEqual([
        expect.objectContaining({ type: 'date/single', target: ['variable', ['template-tag', 'start_date']] }),
      ]);
      expect(card.dataset_query.native['template-tags']).toEqual({
        start_date: expect.objectContaining({ id: card.parameters[0].id, type: 'date' }),
      });
    });

    it('has no parameters when the question has no date column', async () => {
      const card = (await (await fetch(`${sim.url}/api/card/7`, { headers: { 'x-api-key': KEY } })).json()) as { parameters: unknown[] };
      expect(card.parameters).toEqual([]);
    });
  });

  describe('errors', () => {
    it.each([
      ['no key', null],
      ['a wrong key', 'mb_wrong'],
    ])('answers 401 plain-text Unauthenticated to %s', async (_, key) => {
      const response = await post('/api/card/232/query/json', { key });
      expect(response.status).toBe(401);
      expect(await response.text()).toBe('Unauthenticated');
      expect(sim.stats.statusCounts[401]).toBe(1);
    });

    it('answers 404 plain-text "Not found." for an unknown card, to the query and the card', async () => {
      const query = await post('/api/card/999/query/json');
      const card = await fetch(`${sim.url}/api/card/999`, { headers: { 'x-api-key': KEY } });
      expect([query.status, await query.text(), card.status, await card.text()]).toEqual([404, 'Not found.', 404, 'Not found.']);
    });

    it('answers 403 for a card the key may not read', async () => {
      sim.setQuestion(11, { rows: PEOPLE, forbidden: true });
      const response = await post('/api/card/11/query/json');
      expect([response.status, await response.text()]).toEqual([403, "You don't have permissions to do that."]);
    });

    it('answers a failed query with HTTP 202 and a failure body instead of rows', async () => {
      sim.setQuestion(12, { rows: PEOPLE, failWith: 'ERROR: relation "records" does not exist' });
      const response = await post('/api/card/12/query/json');
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ status: 'failed', error: 'ERROR: relation "records" does not exist', row_count: 0 });
    });

    it('answers the failure with the status a Metabase version uses', async () => {
      sim.setQuestion(13, { rows: PEOPLE, failWith: 'boom', failStatus: 200 });
      const response = await post('/api/card/13/query/json');
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'failed', error: 'boom' });
    });

    it('appends the failure to the rows already sent when the query fails mid-stream', async () => {
      sim.setQuestion(14, { rows: PEOPLE, failWith: 'canceled', failAfterRows: 2 });
      const text = await (await post('/api/card/14/query/json')).text();
      expect(text).toMatch(/^\[\n\{"id":1,.*\},\n\{"id":2,.*\}\{"status":"failed",.*"error":"canceled"/s);
      expect(() => JSON.parse(text)).toThrow();
    });

    it('closes the connection mid-body when told to truncate', async () => {
      sim.setQuestion(15, { rows: PEOPLE, truncateAfterRows: 2 });
      const response = await post('/api/card/15/query/json');
      expect(response.status).toBe(200);
      await expect(response.text()).rejects.toThrow();
    });
  });

  describe('streaming', () => {
    it('writes a large result in pieces, no further ahead of the reader than the connection buffers', async () => {
      const total = 100_000;
      sim.setQuestion(20, {
        rows: function* () {
          for (let id = 0; id < total; id++) yield { id, formatted_text: `row ${id} ${'x'.repeat(100)}` };
        },
      });
      const response = await post('/api/card/20/query/json');
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      const aheadAtFirstPiece = sim.stats.rowsStreamed;
      let bytes = 0;
      for (let step = await reader.read(); !step.done; step = await reader.read()) bytes += step.value.length;

      expect(aheadAtFirstPiece).toBeLessThan(total / 2);
      expect(sim.stats.rowsStreamed).toBe(total);
      expect(sim.stats.bodyWrites).toBeGreaterThan(100);
      expect(bytes).toBeGreaterThan(total * 100);
    });
  });

  describe('other endpoints', () => {
    it('exports CSV with a header of column names, quoted fields and empty nulls', async () => {
      const all = await post('/api/card/232/query/csv');
      const filtered = await postForm('/api/card/232/query/csv', { parameters: JSON.stringify([dateParameter('2025-03-01')]) });
      expect(all.headers.get('content-type')).toBe('text/csv');
      expect(await all.text()).toBe(
        'id,formatted_text,created_at\r\n1,"Ada, ""the first""",2024-12-31T23:59:59Z\r\n2,Grace,2025-01-01T00:00:00Z\r\n3,Edsger,\r\n4,Barbara,2025-03-02\r\n',
      );
      expect(await filtered.text()).toBe('id,formatted_text,created_at\r\n4,Barbara,2025-03-02\r\n');
    });

    it('caps POST /api/card/:id/query at 2,000 rows, as arrays under data.rows, answered 202', async () => {
      sim.setQuestion(21, { rows: Array.from({ length: 2500 }, (_, id) => ({ id, name: `n${id}` })) });
      const response = await postJson('/api/card/21/query', {});
      const body = (await response.json()) as {
        data: { rows: unknown[][]; cols: Array<{ name: string }> };
        row_count: number;
        status: string;
      };
      expect(response.status).toBe(202);
      expect(body.status).toBe('completed');
      expect(body.row_count).toBe(2000);
      expect(body.data.rows).toHaveLength(2000);
      expect(body.data.rows[1]).toEqual([1, 'n1']);
      expect(body.data.cols.map((col) => col.name)).toEqual(['id', 'name']);
    });
  });
});
