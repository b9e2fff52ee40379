import { readFileSync } from 'node:fs';
import { DEFAULT_WIRING_PATH, environmentFromWiring, eventPatternFor, loadWiring, parseHandler, parseWiring } from '../../../infra/wiring';
import { ConfigurationError } from '../../../shared/errors';

const yamlText = readFileSync(DEFAULT_WIRING_PATH, 'utf8');

/** The real wiring.yml with one edit; fails the test if the edit did not apply. */
function edited(search: string | RegExp, replacement: string): string {
  const text = yamlText.replace(search, replacement);
  expect(text).not.toBe(yamlText);
  return text;
}

describe('loadWiring (infra/wiring.yml)', () => {
  const wiring = loadWiring();

  it('reads every consumer with its trigger, limits and derived visibility timeout', () => {
    expect(wiring.eventSource).toBe('vectordb-catchup');
    expect(Object.keys(wiring.consumers)).toEqual(['ingest', 'planner', 'embedder', 'aggregator', 'executionEnded', 'syncer', 'retrier']);
    // Other systems may ask for a retry, as they may ask for a run.
    expect(wiring.consumers.retrier.trigger).toEqual({ events: ['TaskRetryRequested'], internal: false });
    expect(wiring.consumers.syncer.trigger).toEqual({ events: ['SyncStepRequested'], internal: true });
    expect(wiring.consumers.executionEnded.trigger).toEqual({ stateMachine: 'largeCsv' });
    expect(Object.keys(wiring.stateMachines.largeCsv.tasks)).toEqual(['planSegment', 'finishPlan', 'failPlan']);
    expect(wiring.consumers.planner).toMatchObject({
      name: 'planner',
      handler: 'services/planner/taskRequested.handler',
      trigger: { events: ['TaskRequested'], internal: false },
      timeout: 900,
      batchSize: 1,
      maximumConcurrency: 5,
      maxReceiveCount: 5,
      visibilityTimeout: 5400,
    });
    expect(wiring.consumers.embedder.trigger).toEqual({ events: ['ChunkPlanned'], internal: true });
    expect(wiring.consumers.ingest.trigger).toEqual({ s3: { prefix: 'incoming/', suffix: '.csv' } });
    for (const consumer of Object.values(wiring.consumers)) {
      expect(consumer.visibilityTimeout).toBe(6 * consumer.timeout);
    }
  });

  it('reads the http functions with parsed routes', () => {
    expect(wiring.http.process.routes).toEqual([
      { method: 'GET', path: '/process' },
      { method: 'POST', path: '/process' },
    ]);
    expect(wiring.http.status).toMatchObject({ timeout: 29, permissions: ['tasks:read', 'secrets:read'] });
    expect(Object.keys(wiring.http)).toEqual([
      'process',
      'cancel',
      'status',
      'taskList',
      'taskDetail',
      'retry',
      'search',
      'openapi',
      'upload',
      'dashboard',
    ]);
    expect(wiring.http.taskList).toMatchObject({
      routes: [{ method: 'GET', path: '/tasks' }],
      permissions: ['tasks:list', 'secrets:read'],
    });
    expect(wiring.http.taskDetail).toMatchObject({
      routes: [{ method: 'GET', path: '/tasks/{task_id}' }],
      permissions: ['tasks:read', 'secrets:read'],
    });
    expect(wiring.http.retry).toMatchObject({
      routes: [{ method: 'POST', path: '/tasks/{task_id}/retry' }],
      permissions: ['tasks:write', 'events:put', 'secrets:read'],
    });
    // Search reaches only the providers (keys from the secret): nothing of ours in AWS.
    expect(wiring.http.search).toMatchObject({ routes: [{ method: 'GET', path: '/search' }], permissions: ['secrets:read'] });
    expect(wiring.http.openapi).toMatchObject({ routes: [{ method: 'GET', path: '/openapi.json' }], permissions: ['secrets:read'] });
    expect(wiring.http.upload).toMatchObject({
      routes: [{ method: 'POST', path: '/uploads' }],
      permissions: ['bucket:upload', 'secrets:read'],
    });
  });

  it('serves the dashboard page alone without the key, with no permission, its page packaged beside it', () => {
    expect(Object.values(wiring.http).filter((fn) => !fn.apiKey)).toEqual([
      expect.objectContaining({
        name: 'dashboard',
        routes: [{ method: 'GET', path: '/' }],
        permissions: [],
        files: ['services/api/dashboard.html'],
      }),
    ]);
    expect(wiring.http.status).toMatchObject({ apiKey: true, files: [] });
  });

  it('runs the sweeper on a schedule, with its own permissions', () => {
    expect(wiring.scheduled.sweeper).toMatchObject({
      handler: 'services/sweeper/scheduled.handler',
      schedule: 'rate(10 minutes)',
      permissions: ['tasks:list', 'tasks:write', 'events:put'],
    });
  });

  it('tells the functions where uploads start tasks: the ingest trigger', () => {
    expect(environmentFromWiring(wiring)).toMatchObject({ INGEST_PREFIX: 'incoming/', INGEST_SUFFIX: '.csv' });
  });

  it('gives each event-triggered consumer its rule pattern, requiring our source when internal', () => {
    const patterns = Object.fromEntries(
      Object.values(wiring.consumers).map((consumer) => [consumer.name, eventPatternFor(consumer, wiring.eventSource)]),
    );
    expect(patterns).toEqual({
      ingest: undefined,
      planner: { 'detail-type': ['TaskRequested'] },
      embedder: { 'detail-type': ['ChunkPlanned'], source: ['vectordb-catchup'] },
      aggregator: { 'detail-type': ['ChunkEmbedded'], source: ['vectordb-catchup'] },
      executionEnded: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: ['arn:aws:states:us-east-1:000000000000:stateMachine:largeCsv'],
        },
      },
      syncer: { 'detail-type': ['SyncStepRequested'], source: ['vectordb-catchup'] },
      retrier: { 'detail-type': ['TaskRetryRequested'] },
    });
  });
});

describe('parseWiring validation', () => {
  it.each([
    ['an unknown consumer key', () => edited('    batchSize: 1\n', '    batchsize: 1\n'), /consumers\.planner\.batchsize: unknown key/],
    [
      'a typo in a trigger',
      () => edited('{ events: [TaskRequested] }', '{ event: [TaskRequested] }'),
      /consumers\.planner\.trigger\.event: unknown key/,
    ],
    ['an unknown top-level key', () => `${yamlText}\nconsumer: {}\n`, /consumer: unknown key/],
    ['a missing key', () => edited(/^ {4}memorySize: 1024\n/m, ''), /consumers\.planner\.memorySize: is required/],
    [
      'a timeout given as a string',
      () => edited('    timeout: 300\n', '    timeout: "300"\n'),
      /consumers\.embedder\.timeout: must be a whole number/,
    ],
    ["a timeout above Lambda's 900 s", () => edited('    timeout: 900\n', '    timeout: 901\n'), /consumers\.planner\.timeout/],
    [
      'maxReceiveCount below 5',
      () => edited('    maxReceiveCount: 8\n', '    maxReceiveCount: 3\n'),
      /consumers\.embedder\.maxReceiveCount/,
    ],
    [
      'maximumConcurrency above reservedConcurrency',
      () => edited('    maximumConcurrency: 5\n    maxReceiveCount: 8\n', '    maximumConcurrency: 6\n    maxReceiveCount: 8\n'),
      /maximumConcurrency: must not exceed reservedConcurrency/,
    ],
    [
      'maximumConcurrency 1 (AWS accepts 2-1000)',
      () => edited(/reservedConcurrency: 5\n {4}maximumConcurrency: 5/, 'reservedConcurrency: 5\n    maximumConcurrency: 1'),
      /maximumConcurrency: must be a whole number from 2/,
    ],
    ['batchSize above 10', () => edited('    batchSize: 10\n', '    batchSize: 11\n'), /consumers\.ingest\.batchSize/],
    [
      'an unknown permission',
      () => edited('[tasks:read, secrets:read]', '[tasks:reed, secrets:read]'),
      /http\.status\.permissions\[0\]: unknown permission "tasks:reed"/,
    ],
    [
      'deadLetter:send on an http function (it has no dead-letter queue)',
      () => edited('[tasks:read, secrets:read]', '[tasks:read, secrets:read, deadLetter:send]'),
      /http\.status\.permissions\[2\]: deadLetter:send is for consumers only/,
    ],
    [
      'deadLetter:send on a state machine task',
      () => edited('permissions: [tasks:write, events:put]\n', 'permissions: [tasks:write, events:put, deadLetter:send]\n'),
      /stateMachines\.largeCsv\.tasks\.finishPlan\.permissions\[2\]: deadLetter:send is for consumers only/,
    ],
    [
      'a trigger with neither events, s3 nor stateMachine',
      () => edited('{ events: [TaskRequested] }', '{ internal: true }'),
      /consumers\.planner\.trigger: needs events, s3 or stateMachine/,
    ],
    ['internal that is not a boolean', () => edited('internal: true', 'internal: yes'), /trigger\.internal: must be true or false/],
    ['a handler without export name', () => edited('services/api/status.handler', 'services/api/status'), /http\.status\.handler/],
    ['a route declared twice', () => edited('routes: [GET /status]', 'routes: [GET /process]'), /"GET \/process" is declared twice/],
    ["an http timeout above API Gateway's 29 s", () => edited('    timeout: 29\n', '    timeout: 30\n'), /http\.process\.timeout/],
    ['a duplicate YAML key', () => edited('    timeout: 30\n', '    timeout: 30\n    timeout: 31\n'), /invalid YAML/],
    [
      'a route without the key that is given permissions',
      () =>
        edited(
          '    apiKey: false\n    files: [services/api/dashboard.html]\n    timeout: 10\n    memorySize: 128\n    permissions: []',
          '    apiKey: false\n    files: [services/api/dashboard.html]\n    timeout: 10\n    memorySize: 128\n    permissions: [tasks:read]',
        ),
      /http\.dashboard\.permissions: must be \[\] when apiKey is false/,
    ],
    [
      'no permissions on a route with the key',
      () => edited('    apiKey: false\n', ''),
      /http\.dashboard\.permissions: must be a non-empty list/,
    ],
    ['an apiKey that is not a boolean', () => edited('apiKey: false', 'apiKey: no'), /http\.dashboard\.apiKey: must be true or false/],
    [
      'a packaged file outside the repository',
      () => edited('files: [services/api/dashboard.html]', 'files: [../secrets.json]'),
      /http\.dashboard\.files\[0\]/,
    ],
    ['an aws. event source', () => edited('eventSource: vectordb-catchup', 'eventSource: aws.s3'), /eventSource/],
    [
      'a schedule EventBridge would refuse',
      () => edited('schedule: rate(10 minutes)', 'schedule: rate(10 minute)'),
      /scheduled\.sweeper\.schedule: "rate\(10 minute\)" is not a schedule expression/,
    ],
    [
      'a scheduled function named as another',
      () => edited('scheduled:\n  sweeper:', 'scheduled:\n  planner:'),
      /scheduled\.planner: another function has the same name/,
    ],
  ])('rejects %s', (_, text, message) => {
    const yaml = text();
    expect(() => parseWiring(yaml)).toThrow(ConfigurationError);
    expect(() => parseWiring(yaml)).toThrow(message);
  });

  it('accepts the file as it is', () => {
    expect(() => parseWiring(yamlText)).not.toThrow();
  });
});

describe('parseHandler', () => {
  it('splits the module path from the export name', () => {
    expect(parseHandler('services/ingest/objectCreated.handler')).toEqual({
      modulePath: 'services/ingest/objectCreated',
      exportName: 'handler',
    });
  });

  it.each(['handler', '../escape.handler', '/abs/path.handler', 'services/api.'])('rejects %s', (handler) => {
    expect(() => parseHandler(handler)).toThrow(ConfigurationError);
  });
});
