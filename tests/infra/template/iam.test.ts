/**
 * Least privilege: one role per function, statements only from its wired permissions.
 */
import {
  actionsOf,
  allFunctions,
  asArray,
  getAtt,
  ofType,
  packaged,
  pascal,
  resource,
  roleStatements,
  SERVICE,
  STAGE,
  stateMachines,
  usePackagedTemplate,
  wiring,
} from './helpers';

usePackagedTemplate();

describe('IAM', () => {
  /** Service prefixes of the actions each wired permission may add (logs, and sqs for consumers, always). */
  const PREFIXES: Record<string, string> = {
    'tasks:read': 'dynamodb:',
    'tasks:write': 'dynamodb:',
    'tasks:list': 'dynamodb:',
    'events:put': 'events:',
    'bucket:read': 's3:',
    'bucket:write': 's3:',
    'bucket:upload': 's3:',
    'hashes:write': 'dynamodb:',
    'hashes:scan': 'dynamodb:',
    'secrets:read': 'secretsmanager:',
    'stateMachine:start': 'states:',
  };

  it('gives every function its own role and creates no shared default role', () => {
    expect(packaged().template.Resources.IamRoleLambdaExecution).toBeUndefined();
    for (const [name] of allFunctions) {
      expect(resource(`${pascal(name)}LambdaFunction`).Properties.Role).toEqual(getAtt(`${pascal(name)}ExecutionRole`));
      expect(resource(`${pascal(name)}ExecutionRole`).Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    }
    const lambdaRoles = ofType('AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
    );
    expect(lambdaRoles).toHaveLength(allFunctions.length);
    // The only other roles: one per state machine, assumed by Step Functions.
    expect(ofType('AWS::IAM::Role')).toHaveLength(allFunctions.length + stateMachines.length);
  });

  it('grants no wildcard actions and no "*" resources', () => {
    for (const [name] of allFunctions) {
      for (const statement of roleStatements(name)) {
        expect(statement.Effect).toBe('Allow');
        for (const action of asArray(statement.Action)) expect(action).not.toContain('*');
        for (const target of asArray(statement.Resource)) {
          expect(target).not.toBe('*');
          // Every resource is one of ours, named by reference or built on our own names.
          expect(typeof target).toBe('object');
        }
      }
    }
  });

  it.each(allFunctions)('%s: grants only the services its wired permissions name', (name, f) => {
    const allowed = new Set(['logs:', ...f.permissions.map((p) => PREFIXES[p]).filter(Boolean)]);
    const consumesQueue = name in wiring.consumers;
    for (const action of actionsOf(roleStatements(name))) {
      const prefix = action.slice(0, action.indexOf(':') + 1);
      expect(allowed.has(prefix) || (prefix === 'sqs:' && consumesQueue)).toBe(true);
    }
    if (consumesQueue) {
      const sends = roleStatements(name).filter((s) => asArray(s.Action).includes('sqs:SendMessage'));
      expect(sends.map((s) => s.Resource)).toEqual(
        f.permissions.includes('deadLetter:send') ? [getAtt(`${pascal(name)}DeadLetterQueue`)] : [],
      );
    }
  });

  it('lets only the syncer query the dataset index, and only that index', () => {
    const queriesIndex = (name: string) =>
      roleStatements(name).filter(
        (s) => JSON.stringify(s.Resource).includes('/index/dataset') && asArray(s.Action).includes('dynamodb:Query'),
      );
    for (const [name] of allFunctions) expect(queriesIndex(name)).toHaveLength(name === 'syncer' ? 1 : 0);
    expect(queriesIndex('syncer')[0].Action).toEqual(['dynamodb:Query']);
  });

  it('lets only the task list and the sweeper query the byCreated index, and the task list nothing else of the table', () => {
    const queriesIndex = (name: string) =>
      roleStatements(name).filter(
        (s) => JSON.stringify(s.Resource).includes('/index/byCreated') && asArray(s.Action).includes('dynamodb:Query'),
      );
    for (const [name] of allFunctions) expect(queriesIndex(name)).toHaveLength(['taskList', 'sweeper'].includes(name) ? 1 : 0);
    const dynamo = roleStatements('taskList').filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual(queriesIndex('taskList'));
    expect(dynamo[0].Action).toEqual(['dynamodb:Query']);
  });

  it('gives search and the OpenAPI document nothing of ours in AWS but the secret', () => {
    for (const name of ['search', 'openapi']) {
      const services = new Set(actionsOf(roleStatements(name)).map((action) => action.slice(0, action.indexOf(':'))));
      expect([...services].sort()).toEqual(['logs', 'secretsmanager']);
    }
  });

  it('lets the upload function write under the ingest prefix, and nothing else of the bucket', () => {
    const ingest = Object.values(wiring.consumers).find((consumer) => consumer.trigger.s3)!.trigger.s3!;
    const putsObjects = (name: string) => actionsOf(roleStatements(name)).includes('s3:PutObject');
    expect(allFunctions.filter(([name]) => putsObjects(name)).map(([name]) => name)).toEqual(
      allFunctions.filter(([, f]) => f.permissions.some((p) => p === 'bucket:upload' || p === 'bucket:write')).map(([name]) => name),
    );
    const s3 = roleStatements('upload').filter((s) => actionsOf([s]).some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      {
        Sid: 'UploadToIngestPrefix',
        Effect: 'Allow',
        Action: ['s3:PutObject'],
        Resource: { 'Fn::Join': ['', [getAtt('DataBucket'), `/${ingest.prefix}*`]] },
      },
    ]);
  });

  it('gives the dashboard page, served without the key, nothing but its logs', () => {
    expect(actionsOf(roleStatements('dashboard')).every((action) => action.startsWith('logs:'))).toBe(true);
  });

  it('lets the embedder touch the bus only to put events on our bus', () => {
    const busStatements = roleStatements('embedder').filter((s) => actionsOf([s]).some((a) => a.startsWith('events:')));
    expect(busStatements).toHaveLength(1);
    expect(busStatements[0].Action).toEqual(['events:PutEvents']);
    expect(busStatements[0].Resource).toEqual(getAtt('EventBus'));
  });

  it('lets only functions with secrets:read read the one secret', () => {
    for (const [name, f] of allFunctions) {
      const reads = roleStatements(name).filter((s) => actionsOf([s]).some((a) => a.startsWith('secretsmanager:')));
      if (!f.permissions.includes('secrets:read')) {
        expect(reads).toEqual([]);
        continue;
      }
      expect(reads).toHaveLength(1);
      expect(reads[0].Action).toEqual(['secretsmanager:GetSecretValue']);
      expect(JSON.stringify(reads[0].Resource)).toContain(`:secret:${SERVICE}/${STAGE}-??????`);
    }
  });
});
