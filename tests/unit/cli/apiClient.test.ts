import { ApiError, createApiClient, UnreachableError } from '../../../cli/apiClient';

const refused = (async () => {
  throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
}) as unknown as typeof fetch;

const answering = (status: number, body: string, seen: Request[] = []) =>
  (async (url: URL, init: RequestInit) => {
    seen.push(new Request(url, init));
    return new Response(body, { status });
  }) as unknown as typeof fetch;

describe('the CLI API client', () => {
  it('sends the key and the query, and answers the JSON of an expected status', async () => {
    const seen: Request[] = [];
    const client = createApiClient({ url: 'https://x.example/prod', key: 'k', local: false }, answering(200, '{"tasks":[]}', seen));
    await expect(client.get('/tasks', { query: { limit: '1', status: undefined } })).resolves.toEqual({ status: 200, body: { tasks: [] } });
    expect(seen[0].url).toBe('https://x.example/prod/tasks?limit=1');
    expect(seen[0].headers.get('x-api-key')).toBe('k');
  });

  it("throws the API's own words for any other status", async () => {
    const client = createApiClient({ url: 'http://h', key: 'k', local: false }, answering(403, '{"message":"Forbidden"}'));
    await expect(client.get('/tasks')).rejects.toEqual(new ApiError(403, 'GET /tasks: 403 Forbidden', { message: 'Forbidden' }));
  });

  it('says to start the local runtime when nothing answers locally', async () => {
    const local = createApiClient({ url: 'http://127.0.0.1:3000', key: 'local-dev-key', local: true }, refused);
    const error = await local.get('/tasks').catch((thrown) => thrown);
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error.message).toBe(
      'cannot reach the API at http://127.0.0.1:3000 (ECONNREFUSED): is the local runtime running? Start it with `npm start` in the repository, or name a deployed stage with --api-url',
    );
    const stage = createApiClient({ url: 'https://x.example/prod', key: 'k', local: false }, refused);
    await expect(stage.get('/tasks')).rejects.toThrow(
      /^cannot reach the API at https:\/\/x\.example\/prod \(ECONNREFUSED\): check --api-url/,
    );
  });
});
