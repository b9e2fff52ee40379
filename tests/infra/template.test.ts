/**
 * Builds the deployable template offline (`serverless package --stage test`, once for this file)
 * and checks it against infra/wiring.yml and the product's security and reliability promises.
 * Expectations are derived from wiring.yml here, not from the compiler, so a compiler bug shows.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { parse } from 'yaml';
import { startEmulators } from '../../local/emulators';
import { createDynamoTaskRepository } from '../../shared/adapters/dynamodb/taskRepository';

const ROOT = resolve(__dirname, '../..');
const STAGE = 'test';
const SERVICE = 'vectordb-catchup';

interface Trigger {
  events?: string[];
  internal?: boolean;
  s3?: { prefix: string; suffix: string };
  stateMachine?: string;
}
interface FunctionWiring {
  handler: string;
  timeout: number;
  memorySize: number;
  permissions: string[];
}
interface ConsumerWiring extends FunctionWiring {
  trigger: Trigger;
  batchSize: number;
  reservedConcurrency: number;
  maximumConcurrency: number;
  maxReceiveCount: number;
}
interface HttpWiring extends FunctionWiring {
  routes: string[];
}
interface StateMachineWiring {
  definition: string;
  tasks: Record<string, FunctionWiring>;
}
interface Wiring {
  eventSource: string;
  consumers: Record<string, ConsumerWiring>;
  http: Record<string, HttpWiring>;
  stateMachines?: Record<string, StateMachineWiring>;
}

/** CloudFormation JSON is loosely typed by nature. */
type Json = any;
interface Resource {
  Type: string;
  Properties: Json;
  DependsOn?: string | string[];
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
}

/** Values put in the packaging shell: none may reach the template or the resolved configuration. */
const CANARIES = {
  OPENAI_API_KEY: 'sk-proj-canaryCANARYcanary0123456789',
  PINECONE_API_KEY: 'pcsk_canaryCANARYcanary0123456789',
  METABASE_API_KEY: 'mb_canaryCANARYcanary0123456789',
  API_KEY: 'api-key-canaryCANARYcanary0123456789',
};
const SECRET_SHAPES = [/\bsk-[A-Za-z0-9_-]{16,}/, /\bpcsk_[A-Za-z0-9_]{16,}/, /\bmb_[A-Za-z0-9_=+/-]{16,}/];

const wiring = parse(readFileSync(join(ROOT, 'infra/wiring.yml'), 'utf8')) as Wiring;
const consumers = Object.entries(wiring.consumers);
const httpFunctions = Object.entries(wiring.http);
const stateMachines = Object.entries(wiring.stateMachines ?? {});
const taskFunctions: [string, FunctionWiring][] = stateMachines.flatMap(([, machine]) => Object.entries(machine.tasks));
const allFunctions: [string, FunctionWiring][] = [...consumers, ...httpFunctions, ...taskFunctions];

const pascal = (name: string) => name[0].toUpperCase() + name.slice(1);
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let workDir: string;
let packageDir: string;
let template: { Resources: Record<string, Resource> };
let templateText: string;
let stateText: string;

const resource = (id: string): Resource => {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id} in the template`);
  return found;
};
const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const roleStatements = (name: string): Statement[] =>
  resource(`${pascal(name)}ExecutionRole`).Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement);
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => asArray(s.Action));

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'vectordb-catchup-package-'));
  packageDir = join(workDir, 'package');
  // serverless-esbuild leaves its zip staging folders in the temp dir: keep them in ours.
  const scratch = join(workDir, 'tmp');
  mkdirSync(scratch);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Prove packaging needs no AWS account: no credentials, no profile, no shared files.
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete env[name];
  Object.assign(env, CANARIES, {
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_SHARED_CREDENTIALS_FILE: join(workDir, 'no-credentials'),
    AWS_CONFIG_FILE: join(workDir, 'no-config'),
    TMPDIR: scratch,
  });
  const cli = join(ROOT, 'node_modules/serverless/bin/serverless.js');
  try {
    await promisify(execFile)(process.execPath, [cli, 'package', '--stage', STAGE, '--package', packageDir], {
      cwd: ROOT,
      env,
      maxBuffer: 32 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`serverless package failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
  templateText = readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8');
  stateText = readFileSync(join(packageDir, 'serverless-state.json'), 'utf8');
  template = JSON.parse(templateText);
}, 120_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('routing', () => {
  it('has one rule per event-triggered consumer, on our bus, with the wired pattern and queue', () => {
    const routed = consumers.filter(([, c]) => c.trigger.events);
    // Consumers of a state machine's status changes have their rule on the default bus (see Step Functions below).
    const ruled = consumers.filter(([, c]) => c.trigger.events || c.trigger.stateMachine);
    expect(ofType('AWS::Events::Rule').map(([id]) => id).sort()).toEqual(ruled.map(([n]) => `${pascal(n)}Rule`).sort());
    for (const [name, c] of routed) {
      const expected: Json = { 'detail-type': c.trigger.events };
      if (c.trigger.internal) expected.source = [wiring.eventSource];
      const rule = resource(`${pascal(name)}Rule`).Properties;
      expect(rule.EventPattern).toEqual(expected);
      expect(rule.EventBusName).toEqual({ Ref: 'EventBus' });
      expect(rule.State).toBe('ENABLED');
      expect(rule.Targets).toEqual([expect.objectContaining({ Arn: getAtt(`${pascal(name)}Queue`) })]);
    }
    expect(resource('EventBus').Properties.Name).toBe(`${SERVICE}-${STAGE}`);
  });

  it('lets only the own rule (or the own bucket, from our account) send to each queue', () => {
    for (const [name, c] of consumers) {
      const policy = resource(`${pascal(name)}QueuePolicy`).Properties;
      expect(policy.Queues).toEqual([{ Ref: `${pascal(name)}Queue` }]);
      const statements: Json[] = policy.PolicyDocument.Statement;
      const expected: Json[] = [];
      if (c.trigger.events || c.trigger.stateMachine) {
        expected.push(
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': getAtt(`${pascal(name)}Rule`) } },
          }),
        );
      }
      if (c.trigger.s3) {
        expected.push(
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: {
              ArnEquals: { 'aws:SourceArn': expect.anything() },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          }),
        );
      }
      expect(statements).toEqual(expected);
    }
  });

  it('notifies the S3-triggered consumer of created objects under the wired prefix and suffix', () => {
    const bucket = resource('DataBucket');
    const s3Consumers = consumers.filter(([, c]) => c.trigger.s3);
    expect(s3Consumers.length).toBeGreaterThan(0);
    expect(bucket.Properties.NotificationConfiguration.QueueConfigurations).toEqual(
      s3Consumers.map(([name, c]) => ({
        Event: 's3:ObjectCreated:*',
        Queue: getAtt(`${pascal(name)}Queue`),
        Filter: {
          S3Key: {
            Rules: [
              { Name: 'prefix', Value: c.trigger.s3!.prefix },
              { Name: 'suffix', Value: c.trigger.s3!.suffix },
            ],
          },
        },
      })),
    );
    // S3 validates the destination on create: the queue policy must already allow it.
    expect(asArray(bucket.DependsOn ?? [])).toEqual(expect.arrayContaining(s3Consumers.map(([n]) => `${pascal(n)}QueuePolicy`)));
  });
});

describe('consumers', () => {
  it.each(consumers)('%s: handler, size, reserved concurrency and event source mapping as wired', (name, c) => {
    const fn = resource(`${pascal(name)}LambdaFunction`).Properties;
    expect(fn).toMatchObject({
      Handler: c.handler,
      Timeout: c.timeout,
      MemorySize: c.memorySize,
      ReservedConcurrentExecutions: c.reservedConcurrency,
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
    });
    expect(fn.Environment.Variables).toMatchObject({
      MAX_RECEIVE_COUNT: String(c.maxReceiveCount),
      DEAD_LETTER_QUEUE_URL: { Ref: `${pascal(name)}DeadLetterQueue` },
    });
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, r]) => r.Properties.FunctionName['Fn::GetAtt'][0] === `${pascal(name)}LambdaFunction`,
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0][1].Properties).toMatchObject({
      EventSourceArn: getAtt(`${pascal(name)}Queue`),
      BatchSize: c.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: c.maximumConcurrency },
    });
  });

  it('runs the embedder at 5 reserved executions fed by at most 5 pollers', () => {
    expect(resource('EmbedderLambdaFunction').Properties.ReservedConcurrentExecutions).toBe(5);
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping').find(
      ([, r]) => r.Properties.FunctionName['Fn::GetAtt'][0] === 'EmbedderLambdaFunction',
    )!;
    expect(mapping.Properties.ScalingConfig.MaximumConcurrency).toBe(5);
  });

  it('tells every function the embedder concurrency and timeout from the wiring: the planner sizes chunks by them', () => {
    const embedder = consumers.find(([name]) => name === 'embedder')![1];
    expect(resource('PlannerLambdaFunction').Properties.Environment.Variables).toMatchObject({
      EMBEDDER_CONCURRENCY: String(embedder.maximumConcurrency),
      EMBEDDER_TIMEOUT_SECONDS: String(embedder.timeout),
    });
  });

  it.each(consumers)('%s: encrypted queue with a DLQ after >= 5 receives, visibility >= 6 x timeout', (name, c) => {
    const queue = resource(`${pascal(name)}Queue`).Properties;
    const dlq = resource(`${pascal(name)}DeadLetterQueue`).Properties;
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: getAtt(`${pascal(name)}DeadLetterQueue`),
      maxReceiveCount: c.maxReceiveCount,
    });
    expect(queue.RedrivePolicy.maxReceiveCount).toBeGreaterThanOrEqual(5);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * c.timeout);
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });
});

describe('REST API', () => {
  const pathOf = (resourceId: Json): string => {
    if (resourceId['Fn::GetAtt']) return '';
    const r = resource(resourceId.Ref).Properties;
    return `${pathOf(r.ParentId)}/${r.PathPart}`;
  };

  it('exposes exactly the wired routes, each to its function, each requiring the API key', () => {
    const methods = ofType('AWS::ApiGateway::Method').map(([, r]) => r.Properties);
    const actual = methods.map((m) => `${m.HttpMethod} ${pathOf(m.ResourceId)} -> ${JSON.stringify(m.Integration.Uri).match(/"(\w+)LambdaFunction"/)![1]}`);
    const expected = httpFunctions.flatMap(([name, h]) => h.routes.map((route) => `${route} -> ${pascal(name)}`));
    expect(actual.sort()).toEqual(expected.sort());
    for (const method of methods) expect(method.ApiKeyRequired).toBe(true);
  });

  it('takes the API key value from the secret by dynamic reference and throttles it with a usage plan', () => {
    const keys = ofType('AWS::ApiGateway::ApiKey');
    expect(keys).toHaveLength(1);
    expect(keys[0][1].Properties.Value).toBe(`{{resolve:secretsmanager:${SERVICE}/${STAGE}:SecretString:API_KEY}}`);
    const [, plan] = ofType('AWS::ApiGateway::UsagePlan')[0];
    expect(plan.Properties.Throttle).toEqual({ RateLimit: expect.any(Number), BurstLimit: expect.any(Number) });
    const [, planKey] = ofType('AWS::ApiGateway::UsagePlanKey')[0];
    expect(planKey.Properties).toMatchObject({ KeyId: { Ref: keys[0][0] }, KeyType: 'API_KEY' });
  });
});

describe('storage', () => {
  it('keeps the bucket private, owner-enforced, encrypted and TLS-only', () => {
    const bucket = resource('DataBucket').Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    const algorithm = bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm;
    expect(['AES256', 'aws:kms']).toContain(algorithm);
    const [, policy] = ofType('AWS::S3::BucketPolicy').find(([, r]) => r.Properties.Bucket.Ref === 'DataBucket')!;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('keys the task table on pk/sk, on demand, encrypted, with point-in-time recovery and TTL', () => {
    const table = resource('TasksTable').Properties;
    expect(table.TableName).toBe(`vectordb-tasks-${STAGE}`);
    expect(table.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  it('keeps logs 30 days', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups).toHaveLength(allFunctions.length);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });
});

describe('IAM', () => {
  /** Service prefixes of the actions each wired permission may add (logs, and sqs for consumers, always). */
  const PREFIXES: Record<string, string> = {
    'tasks:read': 'dynamodb:',
    'tasks:write': 'dynamodb:',
    'events:put': 'events:',
    'bucket:read': 's3:',
    'bucket:write': 's3:',
    'hashes:write': 'dynamodb:',
    'secrets:read': 'secretsmanager:',
    'stateMachine:start': 'states:',
  };

  it('gives every function its own role and creates no shared default role', () => {
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    for (const [name] of allFunctions) {
      expect(resource(`${pascal(name)}LambdaFunction`).Properties.Role).toEqual(getAtt(`${pascal(name)}ExecutionRole`));
      expect(resource(`${pascal(name)}ExecutionRole`).Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
    }
    const lambdaRoles = ofType('AWS::IAM::Role').filter(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'));
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

describe('secrets', () => {
  it('puts no secret value in the template or the resolved configuration', () => {
    for (const text of [templateText, stateText]) {
      for (const value of Object.values(CANARIES)) expect(text).not.toContain(value);
      for (const shape of SECRET_SHAPES) expect(text).not.toMatch(shape);
    }
  });

  it('gives functions only the secret name, never a secret key as a variable', () => {
    for (const [name] of allFunctions) {
      const variables = resource(`${pascal(name)}LambdaFunction`).Properties.Environment.Variables;
      expect(variables.SECRETS_ID).toBe(`${SERVICE}/${STAGE}`);
      for (const key of Object.keys(CANARIES)) expect(variables).not.toHaveProperty(key);
    }
    // Key names appear only in dynamic references that CloudFormation resolves at deploy time
    // (and as the usage plan's KeyType enum, "API_KEY").
    const mentions = [...templateText.matchAll(/"([^"]*API_KEY[^"]*)"/g)].map((match) => match[1]);
    expect(mentions.filter((m) => m !== 'API_KEY' && !/^\{\{resolve:secretsmanager:[^}]+\}\}$/.test(m))).toEqual([]);
  });
});

describe('alarms', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties);
  const dimension = (alarm: Json) => alarm.Dimensions[0].Value;

  it.each(consumers)('%s: errors > 5 in 10 minutes and a non-empty DLQ raise alarms', (name) => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 600,
        EvaluationPeriods: 1,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'FunctionName', Value: `${SERVICE}-${STAGE}-${name}` }],
      }),
    );
    const dlqAlarm = alarms().find(
      (a) => a.Namespace === 'AWS/SQS' && JSON.stringify(dimension(a)) === JSON.stringify(getAtt(`${pascal(name)}DeadLetterQueue`, 'QueueName')),
    );
    expect(dlqAlarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('raises an alarm when the planner runs longer than 14 minutes', () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        Statistic: 'Maximum',
        Threshold: 840000,
        ComparisonOperator: 'GreaterThanThreshold',
        Dimensions: [{ Name: 'FunctionName', Value: `${SERVICE}-${STAGE}-planner` }],
      }),
    );
  });
});

describe('deployability', () => {
  /** Logical IDs a value refers to through Ref, GetAtt or Sub. */
  const references = (value: Json, into: Set<string>): Set<string> => {
    if (Array.isArray(value)) value.forEach((item) => references(item, into));
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'Ref' && typeof inner === 'string') into.add(inner);
        else if (key === 'Fn::GetAtt') into.add((inner as string[])[0]);
        else if (key === 'Fn::Sub') {
          for (const match of String(asArray(inner)[0]).matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) into.add(match[1]);
          references(asArray(inner).slice(1), into);
        } else references(inner, into);
      }
    }
    return into;
  };

  it('has no circular dependency between resources', () => {
    const ids = new Set(Object.keys(template.Resources));
    const edges = new Map(
      Object.entries(template.Resources).map(([id, r]) => [
        id,
        [...references(r.Properties ?? {}, new Set(asArray(r.DependsOn ?? [])))].filter((dep) => ids.has(dep)),
      ]),
    );
    const done = new Set<string>();
    const visit = (id: string, path: string[]) => {
      if (done.has(id)) return;
      if (path.includes(id)) throw new Error(`circular dependency: ${[...path, id].join(' -> ')}`);
      for (const dep of edges.get(id)!) visit(dep, [...path, id]);
      done.add(id);
    };
    for (const id of ids) visit(id, []);
  });

  it('bundles each function alone, without node_modules and without a static import of @lancedb/lancedb', () => {
    const zips = readdirSync(packageDir).filter((file) => file.endsWith('.zip'));
    expect(zips.sort()).toEqual(allFunctions.map(([name]) => `${name}.zip`).sort());
    for (const zip of zips) {
      const entries = readZip(join(packageDir, zip));
      expect([...entries.keys()].filter((path) => path.includes('node_modules/'))).toEqual([]);
      const staticImports = [...entries]
        .filter(([path, content]) => path.endsWith('.js') && /require\(["']@lancedb\/lancedb["']\)/.test(content))
        .map(([path]) => `${zip}:${path}`);
      expect(staticImports).toEqual([]);
    }
  });
});

/** Minimal reader for the zips serverless writes (stored or deflated entries). */
function readZip(file: string): Map<string, string> {
  const zip = readFileSync(file);
  const entries = new Map<string, string>();
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let offset = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10); i++) {
    const method = zip.readUInt16LE(offset + 10);
    const size = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const local = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + size);
    entries.set(name, (method === 8 ? inflateRawSync(data) : data).toString('utf8'));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

describe('event schema registry', () => {
  it('registers every published contract, as Draft 4 with the same constraints', () => {
    const schemas = ofType('AWS::EventSchemas::Schema');
    const files = readdirSync(join(ROOT, 'events-schema')).filter((name) => name.endsWith('.v1.json'));
    expect(schemas.map(([, r]) => (r as any).Properties.SchemaName).sort()).toEqual(files.map((name) => `vectordb-catchup@${name.split('.')[0]}`).sort());
    for (const [, schema] of schemas as [string, any][]) {
      expect(schema.Properties.Type).toBe('JSONSchemaDraft4');
      const content = JSON.parse(schema.Properties.Content);
      expect(content.$schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(content.properties.schemaVersion).toEqual({ enum: [1] });
      expect(JSON.stringify(content)).not.toContain('"const"');
      expect(content.additionalProperties).toBe(false);
    }
    expect(ofType('AWS::EventSchemas::Registry')).toHaveLength(1);
  });
});

describe('the packaged status function', () => {
  it('runs from its zip: middy, the AWS composition root and DynamoDB, against dynalite', async () => {
    const entries = readZip(join(packageDir, 'status.zip'));
    const bundleDir = mkdtempSync(join(tmpdir(), 'bundle-'));
    for (const [name, content] of entries) {
      mkdirSync(join(bundleDir, name, '..'), { recursive: true });
      writeFileSync(join(bundleDir, name), content);
    }
    const emulators = await startEmulators({ dataDir: bundleDir, persist: false, region: 'us-east-1', tableName: 'bundle-tasks', bucketName: 'bundle-bucket', dynamoPort: 0, s3Port: 0 });
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
      DYNAMODB_TABLE_NAME: 'bundle-tasks',
      API_KEY: 'bundle-smoke-key-0123456789',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    delete process.env.SECRETS_ID;
    try {
      const request = { schemaVersion: 1 as const, taskId: 'bundled', source: { type: 's3_csv' as const, key: 'a.csv' } };
      await createDynamoTaskRepository(emulators.dynamo, 'bundle-tasks').create({ taskId: 'bundled', dataSource: 's3_csv', namespace: 'ns', request }, new Date());
      // Node's own require: the bundle runs as Lambda would load it, outside jest's module system.
      const { handler } = createRequire(__filename)(join(bundleDir, 'services/api/status.js'));
      const invoke = (taskId: string, key?: string) =>
        handler({ httpMethod: 'GET', headers: key ? { 'x-api-key': key } : {}, queryStringParameters: { task_id: taskId }, body: null }, { getRemainingTimeInMillis: () => 29000 });
      const found = await invoke('bundled', 'bundle-smoke-key-0123456789');
      expect(found.statusCode).toBe(200);
      expect(JSON.parse(found.body)).toMatchObject({ task_id: 'bundled', status: 'PENDING', data_source: 's3_csv' });
      expect((await invoke('missing', 'bundle-smoke-key-0123456789')).statusCode).toBe(404);
      expect((await invoke('bundled')).statusCode).toBe(401);
    } finally {
      process.env = saved;
      await emulators.close();
      rmSync(bundleDir, { recursive: true, force: true });
    }
  });
});

describe('Step Functions (large-CSV fan-out)', () => {
  const ROOT_DEFINITION = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));

  it.each(stateMachines)('%s: a STANDARD machine deploying the ASL file, its task ARNs substituted', (name, machine) => {
    const props = resource(`${pascal(name)}StateMachine`).Properties;
    expect(props.StateMachineType).toBe('STANDARD');
    expect(props.StateMachineName).toBe(`${SERVICE}-${STAGE}-${name}`);
    expect(props.Definition).toEqual(ROOT_DEFINITION(machine.definition));
    expect(props.RoleArn).toEqual(getAtt(`${pascal(name)}StateMachineRole`));
    // Every ${...} the definition uses is substituted, with the ARN of a wired task function.
    const used = [...JSON.stringify(props.Definition).matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]);
    expect([...new Set(used)].sort()).toEqual(Object.keys(props.DefinitionSubstitutions).sort());
    expect(props.DefinitionSubstitutions).toEqual(
      Object.fromEntries(Object.keys(machine.tasks).map((task) => [`${pascal(task)}FunctionArn`, getAtt(`${pascal(task)}LambdaFunction`)])),
    );
  });

  it.each(stateMachines)('%s: its role is assumed by Step Functions and may invoke exactly its task functions', (name, machine) => {
    const role = resource(`${pascal(name)}StateMachineRole`).Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    const statements: Statement[] = role.Policies.flatMap((p: Json) => p.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: ['lambda:InvokeFunction'] });
    expect(asArray(statements[0].Resource)).toEqual(Object.keys(machine.tasks).map((task) => getAtt(`${pascal(task)}LambdaFunction`)));
  });

  it('task functions have no event source: only their machine invokes them', () => {
    for (const [name] of taskFunctions) {
      const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, r]) => r.Properties.FunctionName['Fn::GetAtt'][0] === `${pascal(name)}LambdaFunction`);
      expect(mappings).toEqual([]);
      expect(ofType('AWS::Lambda::Permission').filter(([, r]) => JSON.stringify(r.Properties.FunctionName).includes(`${pascal(name)}LambdaFunction`))).toEqual([]);
    }
    // Planning a segment may take the whole 15 minutes; it stops itself before (LARGE_CSV_SEGMENT_MARGIN_MS).
    expect(resource('PlanSegmentLambdaFunction').Properties.Timeout).toBe(900);
  });

  it('routes failed, timed-out and aborted executions of the machine (default bus) to their consumer queue', () => {
    const watchers = consumers.filter(([, c]) => c.trigger.stateMachine);
    expect(watchers.map(([name]) => name)).toEqual(['executionEnded']);
    for (const [name, c] of watchers) {
      const rule = resource(`${pascal(name)}Rule`).Properties;
      expect(rule.EventBusName).toBeUndefined();
      expect(rule.EventPattern).toEqual({
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: `${pascal(c.trigger.stateMachine!)}StateMachine` }] },
      });
      expect(rule.Targets).toEqual([expect.objectContaining({ Arn: getAtt(`${pascal(name)}Queue`) })]);
    }
  });

  it('lets only the planner start executions, of that machine only, and tells it the ARN', () => {
    for (const [name] of allFunctions) {
      const starts = roleStatements(name).filter((s) => actionsOf([s]).some((a) => a.startsWith('states:')));
      if (name !== 'planner') {
        expect(starts).toEqual([]);
        continue;
      }
      expect(starts).toHaveLength(1);
      expect(starts[0].Action).toEqual(['states:StartExecution']);
      expect(asArray(starts[0].Resource)).toEqual([{ Ref: 'LargeCsvStateMachine' }]);
    }
    expect(resource('PlannerLambdaFunction').Properties.Environment.Variables.LARGE_CSV_STATE_MACHINE_ARN).toEqual({ Ref: 'LargeCsvStateMachine' });
  });

  it('alarms on any failed or timed-out execution', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties).filter((a) => a.Namespace === 'AWS/States');
    expect(alarms.map((a) => a.MetricName).sort()).toEqual(['ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const alarm of alarms) expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'LargeCsvStateMachine' } }] });
  });
});
