'use strict';
/**
 * Compiles infra/wiring.yml (the one description of which event reaches which queue and handler)
 * into what serverless.yml includes:
 *
 *   functions: ${file(./infra/serverless-wiring.js):functions}
 *   resources:
 *     - ${file(./infra/serverless-wiring.js):resources}
 *   DataBucket NotificationConfiguration / DependsOn: ...:bucketNotification / ...:bucketDependsOn
 *
 * Serverless v3 calls an exported function with `{ options, resolveVariable }` and uses what it
 * resolves to. The service, stage, bucket name and secret name are resolved from serverless.yml
 * so that each is defined in one place.
 *
 * Parsing and validation are local/wiring.ts's alone (the local runtime uses the same), so a
 * wiring that local mode rejects cannot be deployed either.
 */
const fs = require('node:fs');
const path = require('node:path');
const { eventPatternFor } = require('./eventPatterns.js');
// Serverless loads this file with plain Node: tsx compiles the TypeScript for this require only
// (its hooks are namespaced; nothing else serverless loads goes through them). tsx is a
// devDependency, as serverless itself is.
const { loadWiring } = require('tsx/cjs/api').require('../local/wiring.ts', __filename);

/** Logical IDs of the resources serverless.yml declares outside the wiring. */
const SHARED = { bus: 'EventBus', table: 'TasksTable', bucket: 'DataBucket' };

/** The longest SQS keeps a message: time to inspect and redrive what a consumer gave up on. */
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

/** Alarm thresholds of the old system: errors > 5 in 10 minutes, duration > 14 minutes. */
const ERROR_ALARM = { threshold: 5, periodSeconds: 600 };
const DURATION_ALARM_MS = 14 * 60 * 1000;

/**
 * @typedef {{ service: string, stage: string, bucketName: unknown, secretsId: string }} Context
 * @typedef {(variable: string) => Promise<unknown>} ResolveVariable
 */

/** "chunk-embedder" -> "ChunkEmbedder": deterministic CloudFormation logical ID prefix. */
function logicalId(name) {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

const ids = (name) => {
  const base = logicalId(name);
  return {
    queue: `${base}Queue`,
    deadLetterQueue: `${base}DeadLetterQueue`,
    queuePolicy: `${base}QueuePolicy`,
    rule: `${base}Rule`,
    role: `${base}ExecutionRole`,
    errorsAlarm: `${base}ErrorsAlarm`,
    durationAlarm: `${base}DurationAlarm`,
    deadLetterAlarm: `${base}DeadLetterQueueAlarm`,
    stateMachine: `${base}StateMachine`,
    stateMachineRole: `${base}StateMachineRole`,
    function: `${base}LambdaFunction`,
  };
};

/** `${PlanSegmentFunctionArn}` in a definition: the ARN of the task function planSegment. */
const substitutionFor = (task) => `${logicalId(task)}FunctionArn`;

/** Every wired state machine's ARN (Ref of an AWS::StepFunctions::StateMachine is its ARN). */
const stateMachineArns = (wiring) => Object.fromEntries(Object.keys(wiring.stateMachines).map((name) => [name, ref(ids(name).stateMachine)]));

const getAtt = (id, attribute) => ({ 'Fn::GetAtt': [id, attribute] });
const ref = (id) => ({ Ref: id });

/** @param {ResolveVariable} resolveVariable @returns {Promise<Context>} */
async function context(resolveVariable) {
  const [service, stage, bucketName, secretsId] = await Promise.all([
    resolveVariable('self:service'),
    resolveVariable('sls:stage'),
    resolveVariable('self:custom.bucketName'),
    resolveVariable('self:custom.secretsId'),
  ]);
  return { service: String(service), stage: String(stage), bucketName, secretsId: String(secretsId) };
}

const functionName = (ctx, name) => `${ctx.service}-${ctx.stage}-${name}`;

/** Built from the name, not GetAtt: the bucket depends on the queue policy that needs its ARN. */
const bucketArnFromName = (ctx) => ({ 'Fn::Sub': ['arn:${AWS::Partition}:s3:::${BucketName}', { BucketName: ctx.bucketName }] });

/** Secrets Manager appends 6 random characters to a secret's ARN. */
const secretArn = (ctx) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${ctx.secretsId}-??????`,
});

/** @returns {object[]} IAM statements for one function, each scoped to one resource of ours. */
function statementsFor(ctx, name, permissions, isConsumer, wiring) {
  const id = ids(name);
  const statements = [
    {
      Sid: 'OwnLogGroup',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName(ctx, name)}:*`,
      },
    },
  ];
  if (isConsumer) {
    statements.push({
      Sid: 'ConsumeOwnQueue',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      Resource: getAtt(id.queue, 'Arn'),
    });
  }
  const tableArn = getAtt(SHARED.table, 'Arn');
  const bucketArn = getAtt(SHARED.bucket, 'Arn');
  const grants = {
    'tasks:read': () => [{ Sid: 'ReadTasks', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: tableArn }],
    'tasks:write': () => [
      {
        Sid: 'WriteTasks',
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: tableArn,
      },
    ],
    // Content hashes of upserted vectors: batch reads and writes, only of items keyed HASH#….
    'hashes:write': () => [
      {
        Sid: 'ReadWriteContentHashes',
        Action: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
        Resource: tableArn,
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['HASH#*'] } },
      },
    ],
    'events:put': () => [{ Sid: 'PutEventsOnOwnBus', Action: ['events:PutEvents'], Resource: getAtt(SHARED.bus, 'Arn') }],
    'bucket:read': () => [
      {
        Sid: 'ReadObjects',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: { 'Fn::Join': ['', [bucketArn, '/*']] },
      },
      // Without ListBucket a missing key answers 403 instead of 404, and "no such s3_key" reads as a permissions fault.
      { Sid: 'ListBucket', Action: ['s3:ListBucket'], Resource: bucketArn },
    ],
    // Only the planner's own scratch space: chunk files of row sources under tasks/.
    'bucket:write': () => [{ Sid: 'WriteTaskChunks', Action: ['s3:PutObject'], Resource: { 'Fn::Join': ['', [bucketArn, '/tasks/*']] } }],
    'deadLetter:send': () => [
      { Sid: 'SendToOwnDeadLetterQueue', Action: ['sqs:SendMessage'], Resource: getAtt(id.deadLetterQueue, 'Arn') },
    ],
    'secrets:read': () => [{ Sid: 'ReadSecret', Action: ['secretsmanager:GetSecretValue'], Resource: secretArn(ctx) }],
    // Starting executions of our own state machines only (the large-CSV fan-out).
    'stateMachine:start': () => [
      { Sid: 'StartOwnStateMachines', Action: ['states:StartExecution'], Resource: Object.values(stateMachineArns(wiring)) },
    ],
  };
  for (const permission of permissions) {
    // The names are local/wiring.ts's PERMISSIONS: one added there must get its statements here.
    if (!grants[permission]) throw new Error(`infra/serverless-wiring.js: no IAM statements for permission "${permission}"`);
    for (const statement of grants[permission]()) statements.push({ Effect: 'Allow', ...statement });
  }
  return statements;
}

function role(ctx, name, permissions, isConsumer, wiring) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `${functionName(ctx, name)}: least privilege from infra/wiring.yml`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: 'least-privilege',
          PolicyDocument: { Version: '2012-10-17', Statement: statementsFor(ctx, name, permissions, isConsumer, wiring) },
        },
      ],
    },
  };
}

function lambdaAlarm(ctx, name, suffix, metric, statistic, periodSeconds, threshold, description) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${functionName(ctx, name)}-${suffix}`,
      AlarmDescription: description,
      Namespace: 'AWS/Lambda',
      MetricName: metric,
      Dimensions: [{ Name: 'FunctionName', Value: functionName(ctx, name) }],
      Statistic: statistic,
      Period: periodSeconds,
      EvaluationPeriods: 1,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
  };
}

/** Alarms for every function: errors; and duration for those allowed to run past 14 minutes. */
function functionAlarms(ctx, name, timeout) {
  const id = ids(name);
  const alarms = {
    [id.errorsAlarm]: lambdaAlarm(
      ctx,
      name,
      'errors',
      'Errors',
      'Sum',
      ERROR_ALARM.periodSeconds,
      ERROR_ALARM.threshold,
      `More than ${ERROR_ALARM.threshold} errors in ${ERROR_ALARM.periodSeconds / 60} minutes`,
    ),
  };
  if (timeout * 1000 > DURATION_ALARM_MS) {
    alarms[id.durationAlarm] = lambdaAlarm(
      ctx,
      name,
      'duration',
      'Duration',
      'Maximum',
      300,
      DURATION_ALARM_MS,
      'An invocation ran longer than 14 minutes, close to the 15-minute Lambda limit',
    );
  }
  return alarms;
}

/** Queue, DLQ, routing (rule or bucket notification permission), role and alarms of one consumer. */
function consumerResources(ctx, wiring, name, consumer) {
  const id = ids(name);
  const queueName = functionName(ctx, name);
  const resources = {
    [id.deadLetterQueue]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: `${queueName}-dlq`,
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: DLQ_RETENTION_SECONDS,
      },
    },
    [id.queue]: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: queueName,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: consumer.visibilityTimeout,
        RedrivePolicy: { deadLetterTargetArn: getAtt(id.deadLetterQueue, 'Arn'), maxReceiveCount: consumer.maxReceiveCount },
      },
    },
    [id.role]: role(ctx, name, consumer.permissions, true, wiring),
    ...functionAlarms(ctx, name, consumer.timeout),
    [id.deadLetterAlarm]: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `${queueName}-dlq-not-empty`,
        AlarmDescription: `Messages the ${name} consumer gave up on`,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(id.deadLetterQueue, 'QueueName') }],
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
  };

  const senders = [];
  const pattern = eventPatternFor(consumer, wiring.eventSource, stateMachineArns(wiring));
  if (pattern) {
    resources[id.rule] = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: queueName,
        Description: consumer.description,
        // Step Functions publishes status changes to the account's default bus (no EventBusName).
        ...(consumer.trigger.stateMachine ? {} : { EventBusName: ref(SHARED.bus) }),
        EventPattern: pattern,
        State: 'ENABLED',
        Targets: [{ Id: `${name}-queue`, Arn: getAtt(id.queue, 'Arn') }],
      },
    };
    senders.push({
      Sid: 'FromOwnRule',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: getAtt(id.queue, 'Arn'),
      Condition: { ArnEquals: { 'aws:SourceArn': getAtt(id.rule, 'Arn') } },
    });
  }
  if (consumer.trigger.s3) {
    senders.push({
      Sid: 'FromOwnBucket',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: getAtt(id.queue, 'Arn'),
      Condition: {
        ArnEquals: { 'aws:SourceArn': bucketArnFromName(ctx) },
        StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
      },
    });
  }
  resources[id.queuePolicy] = {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: { Queues: [ref(id.queue)], PolicyDocument: { Version: '2012-10-17', Statement: senders } },
  };
  return resources;
}

/** What every function declares, whatever triggers it: its name, code, size and own role. */
function baseFunction(ctx, name, fn) {
  return { name: functionName(ctx, name), description: fn.description, handler: fn.handler, timeout: fn.timeout, memorySize: fn.memorySize, role: ids(name).role };
}

/** @param {{ resolveVariable: ResolveVariable }} input */
async function functions({ resolveVariable }) {
  const ctx = await context(resolveVariable);
  const wiring = loadWiring();
  const out = {};
  for (const [name, c] of Object.entries(wiring.consumers)) {
    out[name] = {
      ...baseFunction(ctx, name, c),
      reservedConcurrency: c.reservedConcurrency,
      environment: {
        MAX_RECEIVE_COUNT: String(c.maxReceiveCount),
        DEAD_LETTER_QUEUE_URL: ref(ids(name).deadLetterQueue),
        // The one machine it may start (stateMachine:start): the large-CSV fan-out.
        ...(c.permissions.includes('stateMachine:start') && wiring.stateMachines.largeCsv ? { LARGE_CSV_STATE_MACHINE_ARN: ref(ids('largeCsv').stateMachine) } : {}),
      },
      events: [
        {
          sqs: {
            arn: getAtt(ids(name).queue, 'Arn'),
            batchSize: c.batchSize,
            functionResponseType: 'ReportBatchItemFailures',
            maximumConcurrency: c.maximumConcurrency,
          },
        },
      ],
    };
  }
  for (const [name, fn] of Object.entries(wiring.http)) {
    out[name] = {
      ...baseFunction(ctx, name, fn),
      events: fn.routes.map((route) => ({ http: { method: route.method.toLowerCase(), path: route.path.replace(/^\//, ''), private: true } })),
    };
  }
  // Task functions of the state machines: invoked by their machine only, no event source.
  for (const machine of Object.values(wiring.stateMachines)) {
    for (const [name, fn] of Object.entries(machine.tasks)) {
      out[name] = baseFunction(ctx, name, fn);
    }
  }
  return out;
}

/**
 * A state machine from its ASL file (the same file local mode runs): the task functions' ARNs
 * go in as DefinitionSubstitutions, its role may invoke exactly those functions, and alarms
 * fire on any failed or timed-out execution.
 */
function stateMachineResources(ctx, name, machine) {
  const id = ids(name);
  const definition = JSON.parse(fs.readFileSync(path.join(__dirname, '..', machine.definition), 'utf8'));
  const taskArns = Object.keys(machine.tasks).map((task) => getAtt(ids(task).function, 'Arn'));
  const machineName = functionName(ctx, name);
  const alarm = (metric, description) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${machineName}-${metric.replace(/^Executions/, '').toLowerCase()}`,
      AlarmDescription: description,
      Namespace: 'AWS/States',
      MetricName: metric,
      Dimensions: [{ Name: 'StateMachineArn', Value: ref(id.stateMachine) }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
  });
  return {
    [id.stateMachineRole]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `${machineName}: invokes its own task functions only`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        },
        Policies: [
          {
            PolicyName: 'invoke-own-tasks',
            PolicyDocument: { Version: '2012-10-17', Statement: [{ Sid: 'InvokeOwnTasks', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: taskArns }] },
          },
        ],
      },
    },
    [id.stateMachine]: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: machineName,
        StateMachineType: 'STANDARD',
        RoleArn: getAtt(id.stateMachineRole, 'Arn'),
        Definition: definition,
        DefinitionSubstitutions: Object.fromEntries(Object.keys(machine.tasks).map((task) => [substitutionFor(task), getAtt(ids(task).function, 'Arn')])),
      },
    },
    [`${logicalId(name)}ExecutionsFailedAlarm`]: alarm('ExecutionsFailed', `A ${name} execution failed (its task is marked FAILED)`),
    [`${logicalId(name)}ExecutionsTimedOutAlarm`]: alarm('ExecutionsTimedOut', `A ${name} execution timed out (its task is marked FAILED)`),
  };
}

const SCHEMA_DIR = path.join(__dirname, '..', 'events-schema');

/**
 * The EventBridge schema registry takes OpenAPI 3 or JSON Schema Draft 4; our contracts are
 * draft-07, and the only draft-07 keyword they use is `const`, which Draft 4 spells as a
 * one-value `enum`.
 */
function toDraft4(value) {
  if (Array.isArray(value)) return value.map(toDraft4);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === '$id') continue;
    if (key === '$schema') out.$schema = 'http://json-schema.org/draft-04/schema#';
    else if (key === 'const') out.enum = [inner];
    else out[key] = toDraft4(inner);
  }
  return out;
}

/** The published event contracts, in a registry of their own, so subscribers can find and bind them. */
function schemaRegistry(ctx) {
  const registry = 'EventSchemaRegistry';
  const Resources = {
    [registry]: {
      Type: 'AWS::EventSchemas::Registry',
      Properties: { RegistryName: `${ctx.service}-${ctx.stage}`, Description: 'Events of vectordb-catchup (events-schema/ in its repository)' },
    },
  };
  for (const file of fs.readdirSync(SCHEMA_DIR).filter((name) => /^[A-Za-z]+\.v\d+\.json$/.test(name)).sort()) {
    const [eventName, version] = file.split('.');
    Resources[`${eventName}${version.toUpperCase()}Schema`] = {
      Type: 'AWS::EventSchemas::Schema',
      Properties: {
        RegistryName: getAtt(registry, 'RegistryName'),
        SchemaName: `${ctx.service}@${eventName}`,
        Type: 'JSONSchemaDraft4',
        Description: `${eventName} ${version}`,
        Content: JSON.stringify(toDraft4(JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, file), 'utf8')))),
      },
    };
  }
  return Resources;
}

/** @param {{ resolveVariable: ResolveVariable }} input */
async function resources({ resolveVariable }) {
  const ctx = await context(resolveVariable);
  const wiring = loadWiring();
  const Resources = {};
  for (const [name, c] of Object.entries(wiring.consumers)) Object.assign(Resources, consumerResources(ctx, wiring, name, c));
  for (const [name, fn] of Object.entries(wiring.http)) {
    Resources[ids(name).role] = role(ctx, name, fn.permissions, false, wiring);
    Object.assign(Resources, functionAlarms(ctx, name, fn.timeout));
  }
  for (const [machineName, machine] of Object.entries(wiring.stateMachines)) {
    for (const [name, fn] of Object.entries(machine.tasks)) {
      Resources[ids(name).role] = role(ctx, name, fn.permissions, false, wiring);
      Object.assign(Resources, functionAlarms(ctx, name, fn.timeout));
    }
    Object.assign(Resources, stateMachineResources(ctx, machineName, machine));
  }
  Object.assign(Resources, schemaRegistry(ctx));
  return { Resources };
}

/** The data bucket's NotificationConfiguration: each S3-triggered consumer's prefix/suffix to its queue. */
async function bucketNotification() {
  const wiring = loadWiring();
  const QueueConfigurations = Object.entries(wiring.consumers)
    .filter(([, c]) => c.trigger.s3)
    .map(([name, c]) => ({
      Event: 's3:ObjectCreated:*',
      Queue: getAtt(ids(name).queue, 'Arn'),
      Filter: {
        S3Key: {
          Rules: [
            { Name: 'prefix', Value: c.trigger.s3.prefix },
            { Name: 'suffix', Value: c.trigger.s3.suffix },
          ],
        },
      },
    }));
  return { QueueConfigurations };
}

/** S3 validates the destination when the notification is created: the queue policies must exist first. */
async function bucketDependsOn() {
  const wiring = loadWiring();
  return Object.entries(wiring.consumers)
    .filter(([, c]) => c.trigger.s3)
    .map(([name]) => ids(name).queuePolicy);
}

module.exports = { functions, resources, bucketNotification, bucketDependsOn };
