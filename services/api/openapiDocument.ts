/**
 * The OpenAPI 3.1 description of every route in infra/wiring.yml (`http:`), served at
 * GET /openapi.json. tests/integration/openapi.test.ts holds it to the wiring (every route, no
 * other) and validates real answers, successes and errors, against it. Objects list what they
 * always carry; fields are only ever added, so none forbids more.
 */
import packageJson from '../../package.json';
import { LONG_TEXT_MODES } from '../../shared/config';
import { FIELD_OPERATORS } from '../../shared/domain/metadataFilter';
import { SEARCH_LIMITS } from '../../shared/domain/search';
import { DATA_SOURCES, SYNC_PHASES, TASK_STATUSES } from '../../shared/domain/task';
import { CHUNK_WINDOW, LAST_ERRORS } from '../../shared/domain/taskDetail';
import { TASK_LIST_LIMITS } from '../../shared/domain/taskList';
import { UPLOAD_LIMITS } from '../../shared/domain/upload';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const integer: Schema = { type: 'integer', minimum: 0 };
const nullable = (schema: Schema): Schema => ({ ...schema, type: [schema.type as string, 'null'] });
const dateTime: Schema = { type: 'string', format: 'date-time' };
const object = (properties: Record<string, Schema>, optional: string[] = []): Schema => ({
  type: 'object',
  required: Object.keys(properties).filter((name) => !optional.includes(name)),
  properties,
});
const jsonBody = (description: string, schema: Schema) => ({ description, content: { 'application/json': { schema } } });

const ERRORS = {
  400: 'A parameter is wrong; `parameter` names it',
  404: 'The task (or the s3_key) does not exist',
  413: `A file over ${UPLOAD_LIMITS.maxBytes} bytes`,
  415: 'A POST body of the wrong kind: not JSON for /process, JSON for /uploads',
  422: 'Malformed JSON, or a source that cannot be used as asked (an empty file)',
  500: 'Internal error (details in the service logs)',
  503: 'A part this deployment is not configured for (Metabase without METABASE_URL, uploads without the ingest trigger)',
} as const;
type ErrorStatus = keyof typeof ERRORS;

/** The responses of an operation: its own, the key check every route has, the errors it may answer. */
function responses(own: Record<number, unknown>, ...errors: ErrorStatus[]) {
  const all: ErrorStatus[] = [...errors, 500];
  return {
    ...Object.fromEntries(Object.entries(own)),
    403: { $ref: '#/components/responses/KeyRefused' },
    ...Object.fromEntries(all.map((status) => [String(status), { $ref: `#/components/responses/Error${status}` }])),
  };
}

const query = (name: string, description: string, schema: Schema = { type: 'string' }, required = false) => ({
  name,
  in: 'query',
  description,
  required,
  schema,
});

const flag: Schema = { type: 'string', enum: ['true', 'false'] };
const DATASET_NAME: Schema = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' };
const TASK_ID: Schema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' };

/** The `/process` parameters, as query parameters (GET) and as the JSON body's fields (POST). */
const PROCESS_PARAMETERS: [string, string, Schema][] = [
  [
    'data_source',
    's3_csv or metabase; default s3_csv when s3_key is given, else metabase',
    { type: 'string', enum: ['s3_csv', 'metabase'] },
  ],
  ['s3_key', 'A key in the bucket, or s3://<bucket>/<key> of this deployment’s bucket', { type: 'string' }],
  ['question_id', 'Metabase question; default METABASE_QUESTION_ID', { type: 'string', pattern: '^[1-9]\\d{0,9}$' }],
  [
    'start_date',
    'YYYY-MM-DD: the question’s date parameter; for CSV, earlier rows are skipped and counted. auto: from the last completed run of the same source (README › Scheduled catch-ups)',
    { oneOf: [{ type: 'string', format: 'date' }, { const: 'auto' }] },
  ],
  ['namespace', 'Vector namespace; default PINECONE_NAMESPACE', { type: 'string', maxLength: 512 }],
  ['task_id', 'Makes the request idempotent; default a new UUID', TASK_ID],
  ['text_column', 'Default TEXT_COLUMN', { type: 'string' }],
  ['id_column', 'Default ID_COLUMN', { type: 'string' }],
  ['date_column', 'Default DATE_COLUMN', { type: 'string' }],
  ['deleted_column', 'The tombstone column; default DELETED_COLUMN', { type: 'string' }],
  ['dry_run', 'Plan and count only', flag],
  ['force', 'Embed even unchanged records', flag],
  ['dataset', 'The dataset the vectors belong to; default the source’s identity', DATASET_NAME],
  ['sync', 'full: the run carries the whole dataset; what it does not see is deleted', { type: 'string', enum: ['full'] }],
  ['allow_mass_delete', 'With sync=full: delete even more than SYNC_MAX_DELETE_FRACTION of the dataset', flag],
  [
    'long_text',
    'A text over one vector’s limit: split into pieces, or truncate; default LONG_TEXT',
    { type: 'string', enum: [...LONG_TEXT_MODES] },
  ],
];

/** A JSON body may give flags as booleans and question_id as a number. */
const bodyField = (schema: Schema): Schema =>
  schema === flag
    ? { oneOf: [{ type: 'boolean' }, flag] }
    : schema.pattern === '^[1-9]\\d{0,9}$'
      ? { oneOf: [{ type: 'integer', minimum: 1 }, schema] }
      : schema;

const statusView = object(
  {
    task_id: { type: 'string' },
    status: { type: 'string', enum: [...TASK_STATUSES] },
    data_source: { type: 'string', enum: [...DATA_SOURCES] },
    namespace: { type: 'string' },
    source: {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string', enum: [...DATA_SOURCES] }, key: { type: 'string' }, questionId: { type: 'integer' } },
    },
    start_date: nullable({ type: 'string' }),
    start_date_auto: object({
      from: { type: 'string', enum: ['watermark', 'initial', 'none'] },
      overlap_days: integer,
      watermark: nullable(object({ task_id: { type: 'string' }, started_at: { type: 'string', format: 'date-time' } })),
    }),
    records: object({
      total: nullable(integer),
      processed: integer,
      skipped: integer,
      failed: integer,
      truncated: integer,
      split: integer,
      skipped_reasons: { type: 'object', additionalProperties: integer },
    }),
    chunks: object({ total: nullable(integer), completed: integer, failed: integer }),
    progress: nullable({ type: 'number', minimum: 0, maximum: 1 }),
    embedding_tokens: integer,
    vectors: object({ upserted: integer, metadata_updated: integer, deleted: integer }),
    dataset: { type: 'string' },
    sync: object(
      {
        mode: { const: 'full' },
        dataset: { type: 'string' },
        phase: { type: 'string', enum: [...SYNC_PHASES, 'pending'] },
        scanned: integer,
        deleted: integer,
        would_delete: integer,
        sample_ids: { type: 'array', items: { type: 'string' } },
        deletion_skipped: { type: 'string' },
      },
      ['would_delete', 'sample_ids', 'deletion_skipped'],
    ),
    warnings: { type: 'array', items: { type: 'string' } },
    dry_run: { type: 'boolean' },
    estimate: object({ records_to_embed: integer, tokens: integer, cost_usd: { type: 'number', minimum: 0 }, final: { type: 'boolean' } }),
    created_at: dateTime,
    started_at: nullable(dateTime),
    updated_at: dateTime,
    completed_at: nullable(dateTime),
    errors: { type: 'array', items: { type: 'string' } },
    error_count: integer,
  },
  ['sync', 'estimate', 'start_date_auto'],
);

const recordCounts = object({ total: integer, processed: integer, skipped: integer, failed: integer });

const taskDetail: Schema = {
  allOf: [
    ref('TaskStatus'),
    object({
      chunk_states: {
        ...object({
          from: integer,
          to: integer,
          next_from: nullable(integer),
          chunks: {
            type: 'array',
            maxItems: CHUNK_WINDOW,
            items: object(
              {
                index: integer,
                state: { type: 'string', enum: ['pending', 'completed', 'failed'] },
                records: recordCounts,
                tokens: integer,
                finished_at: dateTime,
              },
              ['records', 'tokens', 'finished_at'],
            ),
          },
        }),
        description: `Chunks from \`from\` (chunks_from) to \`to\` (exclusive), at most ${CHUNK_WINDOW}; while planning, only recorded ones`,
      },
      records_per_second: nullable({ type: 'number', minimum: 0 }),
      eta_seconds: nullable(integer),
      cost: object({
        price_per_million_tokens: { type: 'number', minimum: 0 },
        tokens: integer,
        spent_usd: { type: 'number', minimum: 0 },
        estimated_total_usd: nullable({ type: 'number', minimum: 0 }),
      }),
      last_errors: {
        type: 'array',
        maxItems: LAST_ERRORS,
        description: 'The most recent record errors of the chunks shown, newest first',
        items: object({
          chunk: integer,
          record_number: nullable(integer),
          id: nullable({ type: 'string' }),
          message: { type: 'string' },
          at: dateTime,
        }),
      },
    }),
  ],
};

const taskListItem = object({
  task_id: { type: 'string' },
  status: { type: 'string', enum: [...TASK_STATUSES] },
  data_source: { type: 'string', enum: [...DATA_SOURCES] },
  namespace: { type: 'string' },
  dataset: { type: 'string' },
  dry_run: { type: 'boolean' },
  records: object({ total: nullable(integer), processed: integer, skipped: integer, failed: integer }),
  progress: nullable({ type: 'number', minimum: 0, maximum: 1 }),
  embedding_tokens: integer,
  created_at: dateTime,
  started_at: nullable(dateTime),
  updated_at: dateTime,
  completed_at: nullable(dateTime),
  status_url: { type: 'string' },
});

const metadata: Schema = {
  type: 'object',
  additionalProperties: {
    oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: { type: 'string' } }],
  },
};
const match = object({ id: { type: 'string' }, score: { type: 'number' }, metadata });

const searchResult = object({
  query: { type: 'string' },
  namespace: { type: 'string' },
  top_k: { type: 'integer', minimum: 1, maximum: SEARCH_LIMITS.maxTopK },
  filter: nullable({ type: 'object' }),
  embedding_tokens: integer,
  results: {
    type: 'array',
    maxItems: SEARCH_LIMITS.maxTopK,
    items: {
      ...object({ id: { type: 'string' }, score: { type: 'number' }, metadata, pieces: { type: 'array', items: match } }, ['pieces']),
      description: 'A record: a piece of a long text (metadata `_parent_id`) comes back under its record, with the pieces that matched',
    },
  },
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'vectordb-catchup',
    version: packageJson.version,
    description: 'Starts and watches runs that embed business records into the vector index, and searches that index.',
  },
  security: [{ apiKey: [] }],
  paths: {
    '/process': {
      get: {
        operationId: 'startTask',
        summary: 'Start a task (the older system’s query parameters)',
        parameters: PROCESS_PARAMETERS.map(([name, description, schema]) => query(name, description, schema)),
        responses: responses(
          { 202: jsonBody('Task started', ref('TaskStarted')), 200: jsonBody('A task with this task_id exists', ref('TaskStarted')) },
          400,
          404,
          422,
          503,
        ),
      },
      post: {
        operationId: 'startTaskFromBody',
        summary: 'Start a task (a JSON body)',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: Object.fromEntries(
                  PROCESS_PARAMETERS.map(([name, description, schema]) => [name, { ...bodyField(schema), description }]),
                ),
              },
            },
          },
        },
        responses: responses(
          { 202: jsonBody('Task started', ref('TaskStarted')), 200: jsonBody('A task with this task_id exists', ref('TaskStarted')) },
          400,
          404,
          415,
          422,
          503,
        ),
      },
    },
    '/status': {
      get: {
        operationId: 'taskStatus',
        summary: 'A task’s status and exact counts',
        parameters: [query('task_id', 'The task', { type: 'string' }, true)],
        responses: responses({ 200: jsonBody('The task', ref('TaskStatus')) }, 400, 404),
      },
    },
    '/cancel': {
      post: {
        operationId: 'cancelTask',
        summary: 'Cancel a task; chunks not yet embedded are skipped',
        parameters: [query('task_id', 'The task (or task_id in a JSON body)')],
        requestBody: { required: false, content: { 'application/json': { schema: object({ task_id: { type: 'string' } }) } } },
        responses: responses(
          { 200: jsonBody('Cancelled', ref('TaskStatus')), 409: jsonBody('The task had already ended, as shown', ref('TaskStatus')) },
          400,
          404,
        ),
      },
    },
    '/tasks': {
      get: {
        operationId: 'listTasks',
        summary: 'Tasks, newest first, a page at a time',
        parameters: [
          query('limit', `Tasks per page, 1–${TASK_LIST_LIMITS.maxLimit}`, {
            type: 'integer',
            minimum: 1,
            maximum: TASK_LIST_LIMITS.maxLimit,
            default: TASK_LIST_LIMITS.defaultLimit,
          }),
          query('cursor', 'next_cursor of the previous page'),
          query('status', 'Only tasks in this status', { type: 'string', enum: [...TASK_STATUSES] }),
          query('data_source', 'Only tasks of this data source', { type: 'string', enum: [...DATA_SOURCES] }),
          query('dataset', 'Only tasks of this dataset'),
        ],
        responses: responses(
          {
            200: jsonBody(
              'A page of tasks; a page cut short by a filter may still have a next_cursor',
              object({ tasks: { type: 'array', items: ref('TaskListItem') }, next_cursor: nullable({ type: 'string' }) }),
            ),
          },
          400,
        ),
      },
    },
    '/tasks/{task_id}': {
      get: {
        operationId: 'describeTask',
        summary: 'A task’s status with each chunk’s state, rate, time left, cost and last errors',
        parameters: [
          { name: 'task_id', in: 'path', required: true, description: 'The task', schema: { type: 'string' } },
          query('chunks_from', `First chunk shown (at most ${CHUNK_WINDOW} are)`, { type: 'integer', minimum: 0, default: 0 }),
        ],
        responses: responses({ 200: jsonBody('The task', ref('TaskDetail')) }, 400, 404),
      },
    },
    '/tasks/{task_id}/retry': {
      post: {
        operationId: 'retryTask',
        summary: 'Run a PARTIAL or FAILED task’s failed chunks again, under its own id',
        parameters: [{ name: 'task_id', in: 'path', required: true, description: 'The task', schema: { type: 'string' } }],
        responses: responses(
          {
            202: jsonBody(
              'RUNNING again, as attempt + 1, the failed chunks’ counts taken out until the retry records them',
              ref('TaskStatus'),
            ),
            409: jsonBody(
              'The task cannot be retried as it is (RUNNING, CANCELLED, COMPLETED, or failed before planning): `error` says why',
              ref('Error'),
            ),
          },
          400,
          404,
        ),
      },
    },
    '/search': {
      get: {
        operationId: 'search',
        summary: 'The records nearest to a query, embedded as records are',
        parameters: [
          query('q', `The text to search for (at most ${SEARCH_LIMITS.maxQueryCharacters} characters)`, { type: 'string' }, true),
          query('top_k', `Vectors to match, 1–${SEARCH_LIMITS.maxTopK}`, {
            type: 'integer',
            minimum: 1,
            maximum: SEARCH_LIMITS.maxTopK,
            default: SEARCH_LIMITS.defaultTopK,
          }),
          query('namespace', 'Default PINECONE_NAMESPACE'),
          query(
            'filter',
            `A metadata filter as JSON, in Pinecone’s language: {"field": value}, operators ${FIELD_OPERATORS.join(', ')}, $and, $or`,
          ),
        ],
        responses: responses({ 200: jsonBody('Matches, best first', ref('SearchResult')) }, 400),
      },
    },
    '/uploads': {
      post: {
        operationId: 'uploadCsv',
        summary: 'Store a CSV file under the ingest prefix, whose S3 trigger starts its task',
        parameters: [
          query(
            'name',
            `The file’s name, ending in .csv: at most ${UPLOAD_LIMITS.maxNameLength} letters, digits, spaces or . _ ( ) -`,
            { type: 'string' },
            true,
          ),
        ],
        requestBody: {
          required: true,
          description: `The file itself, UTF-8, at most ${UPLOAD_LIMITS.maxBytes} bytes`,
          content: { 'text/csv': { schema: { type: 'string', maxLength: UPLOAD_LIMITS.maxBytes } } },
        },
        responses: responses(
          {
            202: jsonBody(
              'Stored; its task starts a moment later, listed by tasks_url (its dataset is the key)',
              object({
                bucket: { type: 'string' },
                key: { type: 'string' },
                s3_uri: { type: 'string' },
                bytes: integer,
                tasks_url: { type: 'string' },
              }),
            ),
          },
          400,
          413,
          415,
          422,
          503,
        ),
      },
    },
    '/': {
      get: {
        operationId: 'dashboard',
        summary: 'The dashboard: a page that holds no data, served without the key; it sends the key on every call it makes',
        security: [],
        responses: {
          200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
          500: { $ref: '#/components/responses/Error500' },
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openApi',
        summary: 'This document',
        responses: responses({
          200: jsonBody('OpenAPI 3.1', object({ openapi: { type: 'string' }, info: { type: 'object' }, paths: { type: 'object' } })),
        }),
      },
    },
  },
  components: {
    securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
    schemas: {
      Error: object({ error: { type: 'string' }, parameter: { type: 'string', description: 'The parameter at fault' } }, ['parameter']),
      KeyRefused: { type: 'object', required: ['message'], properties: { message: { const: 'Forbidden' } } },
      TaskStarted: object({
        task_id: { type: 'string' },
        status: { type: 'string', enum: [...TASK_STATUSES] },
        data_source: { type: 'string', enum: [...DATA_SOURCES] },
        namespace: { type: 'string' },
        status_url: { type: 'string' },
        message: { type: 'string' },
      }),
      TaskStatus: statusView,
      TaskDetail: taskDetail,
      TaskListItem: taskListItem,
      SearchResult: searchResult,
    },
    responses: {
      // API Gateway's own answer, which the functions give too: a missing and a wrong key alike.
      KeyRefused: jsonBody('The x-api-key header is missing or wrong (one answer for both)', ref('KeyRefused')),
      ...Object.fromEntries(Object.entries(ERRORS).map(([status, description]) => [`Error${status}`, jsonBody(description, ref('Error'))])),
    },
  },
};
