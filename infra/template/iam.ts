/**
 * Least privilege: every function has a role of its own whose statements come from its wired
 * permissions, each scoped to one resource of ours; each state machine's role invokes its own
 * task functions only.
 */
import { DATASET_INDEX } from '../../shared/adapters/dynamodb/contentHashStore';
import { CREATED_INDEX } from '../../shared/adapters/dynamodb/taskQueries';
import { ingestPrefixOf, type Permission, type Wiring } from '../wiring';
import { getAtt, type Resource, type Resources, type Statement } from './cloudFormation';
import { physicalName, type Context } from './context';
import { ids, SHARED, stateMachineArns } from './ids';

/** The one role shape: assumed by one AWS service, with one inline policy. */
export function serviceRole(description: string, service: string, policyName: string, statements: Statement[]): Resource {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: description,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
      },
      Policies: [{ PolicyName: policyName, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
    },
  };
}

/** A function's own role; a consumer's may also consume its own queue. */
export function functionRole(ctx: Context, wiring: Wiring, name: string, permissions: Permission[], consumesQueue: boolean): Resources {
  return {
    [ids(name).role]: serviceRole(
      `${physicalName(ctx, name)}: least privilege from infra/wiring.yml`,
      'lambda.amazonaws.com',
      'least-privilege',
      statementsFor(ctx, wiring, name, permissions, consumesQueue),
    ),
  };
}

/** Secrets Manager appends 6 random characters to a secret's ARN. */
const secretArn = (ctx: Context) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${ctx.secretsId}-??????`,
});

type Grant = Omit<Statement, 'Effect'>;

/**
 * The statements the Lambda service itself uses on a function's behalf, from outside any VPC:
 * writing its logs, polling its queue, attaching its network interfaces. The others are the
 * calls of the function's code (infra/template/vpc.ts gives those their endpoints).
 */
export const LAMBDA_SERVICE_STATEMENTS = ['OwnLogGroup', 'ConsumeOwnQueue', 'VpcNetworkInterfaces'];

/** IAM statements for one function, each scoped to one resource of ours. */
function statementsFor(ctx: Context, wiring: Wiring, name: string, permissions: Permission[], consumesQueue: boolean): Statement[] {
  const id = ids(name);
  const statements: Statement[] = [
    {
      Sid: 'OwnLogGroup',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${physicalName(ctx, name)}:*`,
      },
    },
  ];
  if (ctx.vpc) {
    // AWSLambdaVPCAccessExecutionRole's EC2 actions (not its logs on "*"), on "*" as it grants
    // them: EC2's Describe actions take no resource, and Lambda checks the role for them.
    statements.push({
      Sid: 'VpcNetworkInterfaces',
      Effect: 'Allow',
      Action: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Resource: '*',
    });
  }
  if (consumesQueue) {
    statements.push({
      Sid: 'ConsumeOwnQueue',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      Resource: getAtt(id.queue, 'Arn'),
    });
  }
  const tableArn = getAtt(SHARED.table, 'Arn');
  const bucketArn = getAtt(SHARED.bucket, 'Arn');
  // Every permission infra/wiring.ts accepts (PERMISSIONS) has its statements here: the type says so.
  const grants: Record<Permission, () => Grant[]> = {
    'tasks:read': () => [{ Sid: 'ReadTasks', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: tableArn }],
    'tasks:write': () => [
      {
        Sid: 'WriteTasks',
        Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
        Resource: tableArn,
      },
    ],
    'tasks:list': () => [
      {
        Sid: 'ListTasksNewestFirst',
        Action: ['dynamodb:Query'],
        Resource: { 'Fn::Join': ['', [tableArn, `/index/${CREATED_INDEX.name}`]] },
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
    'hashes:scan': () => [
      {
        Sid: 'ScanDatasetIndex',
        Action: ['dynamodb:Query'],
        Resource: { 'Fn::Join': ['', [tableArn, `/index/${DATASET_INDEX.name}`]] },
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
    // Uploads land where the S3 trigger starts tasks, and nowhere else.
    'bucket:upload': () => [
      {
        Sid: 'UploadToIngestPrefix',
        Action: ['s3:PutObject'],
        Resource: { 'Fn::Join': ['', [bucketArn, `/${ingestPrefix(wiring)}*`]] },
      },
    ],
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
    // Unreachable once type-checked; tsx (which runs this at package time) does not type-check.
    if (!grants[permission]) throw new Error(`infra/template/iam.ts: no IAM statements for permission "${permission}"`);
    for (const statement of grants[permission]()) statements.push({ Effect: 'Allow', ...statement });
  }
  return statements;
}

function ingestPrefix(wiring: Wiring): string {
  const prefix = ingestPrefixOf(wiring);
  if (prefix === undefined)
    throw new Error('infra/wiring.yml: bucket:upload needs a consumer with an s3 trigger (its prefix is where uploads go)');
  return prefix;
}
