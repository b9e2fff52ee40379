/**
 * The OpenAPI document kept honest: it describes exactly the wired routes and the /process
 * parameters the API accepts, and real answers of every route, successes and errors, through the
 * local runtime, validate against the schema it gives for their status (JSON Schema 2020-12).
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { loadWiring } from '../../infra/wiring';
import { createOfflineEmbedder } from '../../local/adapters/offlineEmbedder';
import { openApiDocument } from '../../services/api/openapiDocument';
import { UPLOAD_LIMITS } from '../../shared/domain/upload';
import { startLocalStack, type LocalStack } from '../helpers/localStack';

type Json = Record<string, any>;

const DOCUMENT_ID = 'https://vectordb-catchup.local/openapi.json';

describe('OpenAPI document (local runtime)', () => {
  let stack: LocalStack;
  let served: Json;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const compiled = new Map<string, ValidateFunction>();
  /** Every answer checked: `METHOD /template status`. */
  const seen = new Set<string>();

  beforeAll(async () => {
    stack = await startLocalStack({ vectorStore: 'lancedb', runtime: { embedder: createOfflineEmbedder() } });
    const { status, body } = await stack.api('/openapi.json');
    expect(status).toBe(200);
    served = body;
    // The schemas' own references (#/components/schemas/…) resolve in the served document.
    ajv.addSchema({ $id: DOCUMENT_ID, components: { schemas: served.components.schemas } });
    await stack.putObject('uploads/doc.csv', 'id,formatted_text,kind\n1,Red running shoes,shoe\n2,Green tea,tea\n,no id,tea\n');
    await stack.putObject('uploads/empty.csv', '');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** The schema the document gives for an answer, compiled once. */
  function validatorFor(method: string, template: string, status: number): ValidateFunction {
    const operation = served.paths[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`the document has no ${method} ${template}`);
    let response = operation.responses[String(status)];
    if (!response) throw new Error(`the document gives no ${status} for ${method} ${template}`);
    if (response.$ref) response = served.components.responses[response.$ref.split('/').at(-1)];
    const key = `${method} ${template} ${status}`;
    let validate = compiled.get(key);
    if (!validate) {
      const schema = JSON.parse(JSON.stringify(response.content['application/json'].schema).replaceAll('"#/', `"${DOCUMENT_ID}#/`));
      validate = ajv.compile(schema);
      compiled.set(key, validate);
    }
    return validate;
  }

  /** Calls a route and checks the answer against the document; returns it. */
  async function call(method: string, template: string, pathAndQuery: string, init: RequestInit & { apiKey?: string | null } = {}) {
    const answer = await stack.api(pathAndQuery, { method, ...init });
    const validate = validatorFor(method, template, answer.status);
    const valid = validate(answer.body);
    expect({ call: `${method} ${pathAndQuery} → ${answer.status}`, errors: valid ? null : validate.errors }).toEqual({
      call: `${method} ${pathAndQuery} → ${answer.status}`,
      errors: null,
    });
    seen.add(`${method} ${template} ${answer.status}`);
    return answer;
  }
  const postJson = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('is OpenAPI 3.1 behind the API key, with the base path of the deployment', async () => {
    expect(served).toMatchObject({ openapi: '3.1.0', servers: [{ url: '/' }], security: [{ apiKey: [] }] });
    expect(served.components.securitySchemes.apiKey).toEqual({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    await call('GET', '/openapi.json', '/openapi.json');
    await call('GET', '/openapi.json', '/openapi.json', { apiKey: null });
    await call('GET', '/openapi.json', '/openapi.json', { apiKey: 'wrong' });
  });

  it('describes exactly the routes of infra/wiring.yml, each with its key and server errors', () => {
    const wired = Object.values(loadWiring().http).flatMap((fn) => fn.routes.map(({ method, path }) => `${method} ${path}`));
    const documented = Object.entries(openApiDocument.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(wired.sort());
    // Operations without the key are exactly the wired routes that go without it (the dashboard's page).
    const withoutKey = Object.values(loadWiring().http)
      .filter((fn) => !fn.apiKey)
      .flatMap((fn) => fn.routes.map(({ method, path }) => `${method} ${path}`));
    const documentedWithoutKey = Object.entries(openApiDocument.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => 'security' in operation && operation.security.length === 0)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(documentedWithoutKey).toEqual(withoutKey);
    for (const [path, operations] of Object.entries(openApiDocument.paths))
      for (const [method, operation] of Object.entries(operations)) {
        const statuses = Object.keys(operation.responses);
        expect(statuses).toEqual(expect.arrayContaining(['500']));
        expect({ operation: `${method} ${path}`, refusesWithoutKey: statuses.includes('403') }).toEqual({
          operation: `${method} ${path}`,
          refusesWithoutKey: !withoutKey.includes(`${method.toUpperCase()} ${path}`),
        });
      }
  });

  it('lists the /process parameters the API accepts, no more and no fewer', async () => {
    const { body } = await stack.api('/process?not_a_parameter=1');
    const accepted = String(body.error).split('accepted: ')[1].split(', ');
    const documented = (openApiDocument.paths['/process'].get.parameters as { name: string }[]).map((parameter) => parameter.name);
    // A new /process parameter is documented in services/api/openapiDocument.ts (PROCESS_PARAMETERS).
    expect(documented.sort()).toEqual(accepted.sort());
    expect(Object.keys(openApiDocument.paths['/process'].post.requestBody.content['application/json'].schema.properties).sort()).toEqual(
      accepted.sort(),
    );
  });

  it('matches real answers of /process, /status and /cancel, successes and errors', async () => {
    await call('GET', '/process', '/process?data_source=s3_csv&s3_key=uploads/doc.csv&task_id=doc-1');
    await call('GET', '/process', '/process?data_source=s3_csv&s3_key=uploads/doc.csv&task_id=doc-1');
    await call('GET', '/process', '/process?data_source=s3_csv&s3_key=uploads/doc.csv&start_date=2025-13-01');
    await call('GET', '/process', '/process?data_source=s3_csv&s3_key=uploads/nope.csv');
    await call('GET', '/process', '/process?data_source=s3_csv&s3_key=uploads/empty.csv');
    await call('GET', '/process', '/process?question_id=232');
    await call('GET', '/process', '/process?s3_key=uploads/doc.csv', { apiKey: null });
    await call(
      'POST',
      '/process',
      '/process',
      postJson({ data_source: 's3_csv', s3_key: 'uploads/doc.csv', task_id: 'doc-dry', dry_run: true, force: true }),
    );
    await call('POST', '/process', '/process', postJson({ s3_key: 'uploads/doc.csv', dataset: 'docs', sync: 'full', task_id: 'doc-sync' }));
    await call('POST', '/process', '/process', postJson({ s3_key: 'uploads/doc.csv', dry_run: 'maybe' }));
    await call('POST', '/process', '/process', { body: 's3_key=x', headers: { 'content-type': 'text/plain' } });
    await call('POST', '/process', '/process', { body: '{"s3_key":', headers: { 'content-type': 'application/json' } });
    for (const taskId of ['doc-1', 'doc-dry', 'doc-sync']) await stack.waitForTask(taskId);

    for (const taskId of ['doc-1', 'doc-dry', 'doc-sync']) await call('GET', '/status', `/status?task_id=${taskId}`);
    await call('GET', '/status', '/status');
    await call('GET', '/status', '/status?task_id=nope');

    const request = { schemaVersion: 1 as const, taskId: 'doc-cancel', source: { type: 's3_csv' as const, key: 'uploads/doc.csv' } };
    await stack.runtime.deps.tasks.create({ taskId: 'doc-cancel', dataSource: 's3_csv', namespace: 'ns', request }, new Date());
    await call('POST', '/cancel', '/cancel', postJson({ task_id: 'doc-cancel' }));
    await call('POST', '/cancel', '/cancel?task_id=doc-cancel');
    await call('POST', '/cancel', '/cancel?task_id=nope');
    await call('POST', '/cancel', '/cancel');
  });

  it('matches real answers of /tasks/{task_id}/retry, successes and errors', async () => {
    // The second row has no id: its record fails, so the task ends PARTIAL (and does again after a retry).
    await stack.putObject('uploads/partial.csv', 'id,formatted_text\np-1,one\n,two\n');
    await call('GET', '/process', '/process?s3_key=uploads/partial.csv&task_id=doc-partial');
    expect((await stack.waitForTask('doc-partial')).status).toBe('PARTIAL');
    await call('POST', '/tasks/{task_id}/retry', '/tasks/doc-partial/retry', { method: 'POST' });
    await call('POST', '/tasks/{task_id}/retry', '/tasks/doc-cancel/retry', { method: 'POST' });
    await call('POST', '/tasks/{task_id}/retry', '/tasks/nope/retry', { method: 'POST' });
    await stack.waitForTask('doc-partial');
  });

  it('matches real answers of /tasks, /tasks/{task_id} and /search, successes and errors', async () => {
    await stack.waitForTask('doc-1');
    const page = await call('GET', '/tasks', '/tasks?limit=2');
    await call('GET', '/tasks', `/tasks?cursor=${encodeURIComponent(page.body.next_cursor)}&status=PARTIAL`);
    await call('GET', '/tasks', '/tasks?limit=0');
    await call('GET', '/tasks', '/tasks', { apiKey: 'wrong' });
    for (const taskId of ['doc-1', 'doc-dry', 'doc-sync', 'doc-cancel']) await call('GET', '/tasks/{task_id}', `/tasks/${taskId}`);
    await call('GET', '/tasks/{task_id}', '/tasks/nope');
    await call('GET', '/tasks/{task_id}', '/tasks/doc-1?chunks_from=-1');
    const found = await call('GET', '/search', '/search?q=red+running+shoes&top_k=2');
    expect(found.body.results[0].id).toBe('1');
    await call('GET', '/search', `/search?q=tea&filter=${encodeURIComponent('{"kind":{"$in":["tea"]}}')}`);
    await call('GET', '/search', '/search?top_k=2');
    await call('GET', '/search', `/search?q=tea&filter=${encodeURIComponent('{"kind":')}`);
  });

  it('matches real answers of /uploads and of the dashboard page', async () => {
    const page = await fetch(`${stack.runtime.apiUrl}/`);
    const html = await page.text();
    const documented = served.paths['/'].get.responses['200'].content;
    expect(Object.keys(documented)).toEqual([page.headers.get('content-type')!.split(';')[0]]);
    expect(ajv.validate(documented['text/html'].schema, html)).toBe(true);
    expect(html).toMatch(/^<!doctype html>/);
    seen.add(`GET / ${page.status}`);

    const csv = { headers: { 'content-type': 'text/csv' } };
    const file = 'id,formatted_text\n1,Red running shoes\n';
    const stored = await call('POST', '/uploads', '/uploads?name=doc%20copy.csv', { ...csv, body: file });
    expect(stored.body).toMatchObject({
      key: expect.stringMatching(/^incoming\/\d{8}T\d{6}Z-[0-9a-f]{8}-doc copy\.csv$/),
      bytes: Buffer.byteLength(file),
    });
    await call('POST', '/uploads', '/uploads?name=doc.txt', { ...csv, body: 'id\n1\n' });
    await call('POST', '/uploads', '/uploads', { ...csv, body: 'id\n1\n' });
    await call('POST', '/uploads', '/uploads?name=doc.csv', { ...csv, body: '' });
    await call('POST', '/uploads', '/uploads?name=doc.csv', postJson({ id: 1 }));
    await call('POST', '/uploads', '/uploads?name=doc.csv', { ...csv, body: 'x'.repeat(UPLOAD_LIMITS.maxBytes + 1) });
    await call('POST', '/uploads', '/uploads?name=doc.csv', { ...csv, body: 'id\n1\n', apiKey: null });

    // The S3 trigger started the upload's task: its dataset is the key.
    await stack.runtime.waitForIdle(60_000);
    const { body } = await stack.api(stored.body.tasks_url);
    expect(body.tasks).toEqual([
      expect.objectContaining({ status: 'COMPLETED', dataset: stored.body.key, records: expect.objectContaining({ processed: 1 }) }),
    ]);
  });

  it('has seen a success and an error of every documented operation (an error of those that document one)', () => {
    for (const [path, operations] of Object.entries(openApiDocument.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const statuses = [...seen]
          .filter((key) => key.startsWith(`${method.toUpperCase()} ${path} `))
          .map((key) => Number(key.split(' ')[2]));
        const documentsAnError = Object.keys(operation.responses).some((status) => status.startsWith('4'));
        expect({ operation: `${method} ${path}`, success: statuses.some((s) => s < 300), error: statuses.some((s) => s >= 400) }).toEqual({
          operation: `${method} ${path}`,
          success: true,
          error: documentsAnError,
        });
      }
    }
  });
});
