/**
 * The composition root on Lambda: real AWS clients, OpenAI, Pinecone and Metabase, built once
 * per container. Secrets are read at run time from the Secrets Manager secret named by SECRETS_ID
 * (cached by Powertools Parameters), on first use only, so that they are never in the template or
 * the function's configuration and functions without secrets:read never ask for them. Their
 * names are those of the older system (OPENAI_API_KEY, PINECONE_API_KEY, …).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { createDynamoContentHashStore } from '../adapters/dynamodb/contentHashStore';
import { createDynamoCatchupLedger } from '../adapters/dynamodb/catchupLedger';
import { createDynamoChunkPlans } from '../adapters/dynamodb/chunkPlans';
import { createDynamoSyncLedger } from '../adapters/dynamodb/syncLedger';
import { createDynamoTaskQueries } from '../adapters/dynamodb/taskQueries';
import { createDynamoTaskRepository } from '../adapters/dynamodb/taskRepository';
import { createEventBridgePublisher } from '../adapters/eventbridge/eventPublisher';
import { createS3ObjectStore } from '../adapters/s3/objectStore';
import { createSqsDeadLetterSink } from '../adapters/sqs/deadLetterQueue';
import { createStepFunctionsLargeCsvPlanner } from '../adapters/stepfunctions/largeCsvStateMachine';
import { loadConfig, type Config } from '../config';
import { ConfigurationError } from '../errors';
import { pipelineEvents } from '../events/publish';
import { createLogger } from '../logger';
import { instrumentedEmbedder, instrumentedPacer, instrumentedVectors } from '../metrics';
import type { ConsumerContext, Dependencies } from '../ports';
import { once } from './lazy';
import { metabaseSource, openAIEmbedder, pineconeVectorStore, requestPacer } from './providers';

const SECRET_NAMES = ['OPENAI_API_KEY', 'PINECONE_API_KEY', 'METABASE_API_KEY', 'API_KEY'] as const;
type Secrets = Partial<Record<(typeof SECRET_NAMES)[number], string>>;

let dependencies: Dependencies | undefined;
let consumer: Promise<ConsumerContext> | undefined;

export async function awsDependencies(): Promise<Dependencies> {
  dependencies ??= buildAwsDependencies();
  return dependencies;
}

export function awsConsumerContext(): Promise<ConsumerContext> {
  consumer ??= (async () => {
    const deps = await awsDependencies();
    const queueUrl = process.env.DEAD_LETTER_QUEUE_URL;
    if (!queueUrl) throw new ConfigurationError('DEAD_LETTER_QUEUE_URL is not set');
    if (!/^[1-9]\d*$/.test(process.env.MAX_RECEIVE_COUNT ?? '5'))
      throw new ConfigurationError(`MAX_RECEIVE_COUNT is not a whole number >= 1: "${process.env.MAX_RECEIVE_COUNT}"`);
    return {
      deps,
      maxReceiveCount: Number(process.env.MAX_RECEIVE_COUNT ?? 5),
      deadLetters: createSqsDeadLetterSink(new SQSClient({}), queueUrl),
    };
  })();
  return consumer;
}

/** Environment variables of the same names win, so a stage can run without a secret. */
async function fetchSecrets(): Promise<Secrets> {
  const secretsId = process.env.SECRETS_ID;
  const stored = secretsId ? ((await getSecret<Secrets>(secretsId, { transform: 'json', maxAge: 300 })) ?? {}) : {};
  return Object.fromEntries(SECRET_NAMES.map((name) => [name, process.env[name] || stored[name]]));
}

function required(secrets: Secrets, name: keyof Secrets): string {
  const value = secrets[name];
  if (!value)
    throw new ConfigurationError(`${name} is missing: put it in the secret named by SECRETS_ID (${process.env.SECRETS_ID ?? 'unset'})`);
  return value;
}

function buildAwsDependencies(): Dependencies {
  const config: Config = loadConfig();
  // The keys once read, which the logger redacts wherever they would appear.
  let read: Secrets = {};
  const secrets = once(async () => (read = await fetchSecrets()));
  const secret = (name: keyof Secrets) => async () => required(await secrets(), name);
  const dynamo = new DynamoDBClient({});
  const logger = createLogger(() => Object.values(read));
  return {
    config,
    apiKey: async () => (await secrets()).API_KEY,
    tasks: createDynamoTaskRepository(dynamo, config.tableName),
    taskQueries: createDynamoTaskQueries(dynamo, config.tableName),
    sync: createDynamoSyncLedger(dynamo, config.tableName),
    catchup: createDynamoCatchupLedger(dynamo, config.tableName),
    plans: createDynamoChunkPlans(dynamo, config.tableName),
    hashes: createDynamoContentHashStore(dynamo, config.tableName, { logger }),
    objects: createS3ObjectStore(new S3Client({}), config.bucketName),
    events: pipelineEvents(createEventBridgePublisher(new EventBridgeClient({}), config.eventBusName, { logger }), config.eventSource),
    embedder: instrumentedEmbedder(openAIEmbedder(config, secret('OPENAI_API_KEY'), logger)),
    pacer: instrumentedPacer(requestPacer(config, config.embedderConcurrency)),
    vectors: instrumentedVectors(pineconeVectorStore(config, secret('PINECONE_API_KEY'), logger)),
    metabase: metabaseSource(config, secret('METABASE_API_KEY'), logger),
    // Only the planner has LARGE_CSV_STATE_MACHINE_ARN (and states:StartExecution on that machine).
    largeCsv: config.largeCsv.stateMachineArn
      ? createStepFunctionsLargeCsvPlanner(new SFNClient({}), config.largeCsv.stateMachineArn)
      : undefined,
    logger,
    now: () => new Date(),
  };
}
