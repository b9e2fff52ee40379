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
import { SQSClient } from '@aws-sdk/client-sqs';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { loadConfig, type Config } from '../config';
import type { ConsumerContext, Dependencies } from '../dependencies';
import { ConfigurationError } from '../errors';
import { createDynamoContentHashStore } from '../adapters/dynamodb/contentHashStore';
import { createDynamoTaskRepository } from '../adapters/dynamodb/taskRepository';
import { createEventBridgePublisher } from '../adapters/eventbridge/eventPublisher';
import { createMetabaseSource } from '../adapters/metabase/metabaseSource';
import { createOpenAIEmbedder } from '../adapters/openai/openaiEmbedder';
import { createPineconeVectorStore } from '../adapters/pinecone/pineconeVectorStore';
import { createS3ObjectStore } from '../adapters/s3/objectStore';
import { createSqsDeadLetterSink } from '../adapters/sqs/deadLetterQueue';
import { createRequestPacer } from '../domain/rateBudget';
import { validatingPublisher } from '../events/validate';
import { createLogger } from '../logger';
import { lazyEmbedder, lazyQuestionSource, lazyVectorStore, once } from './lazy';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createStepFunctionsFanout } from '../adapters/stepfunctions/stepFunctionsFanout';

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
    return { deps, maxReceiveCount: Number(process.env.MAX_RECEIVE_COUNT ?? 5), deadLetters: createSqsDeadLetterSink(new SQSClient({}), queueUrl) };
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
  if (!value) throw new ConfigurationError(`${name} is missing: put it in the secret named by SECRETS_ID (${process.env.SECRETS_ID ?? 'unset'})`);
  return value;
}

function buildAwsDependencies(): Dependencies {
  const config: Config = loadConfig();
  const secrets = once(fetchSecrets);
  const { openai, pinecone, metabase } = config;
  const dynamo = new DynamoDBClient({});
  return {
    config,
    apiKey: async () => (await secrets()).API_KEY,
    tasks: createDynamoTaskRepository(dynamo, config.tableName),
    hashes: createDynamoContentHashStore(dynamo, config.tableName),
    objects: createS3ObjectStore(new S3Client({}), config.bucketName),
    events: validatingPublisher(createEventBridgePublisher(new EventBridgeClient({}), config.eventBusName)),
    embedder: lazyEmbedder({ description: `OpenAI ${openai.model}`, model: openai.model, dimensions: openai.dimensions }, async () =>
      createOpenAIEmbedder({ apiKey: required(await secrets(), 'OPENAI_API_KEY'), baseURL: openai.baseURL, model: openai.model, dimensions: openai.dimensions, maxRetries: openai.maxRetries }),
    ),
    pacer: createRequestPacer({ requestsPerMinute: openai.rpm, tokensPerMinute: openai.tpm, followProviderTokenLimit: openai.tpmFromProvider, consumers: config.embedderConcurrency }),
    vectors: lazyVectorStore(`Pinecone ${pinecone.indexHost ?? pinecone.indexName ?? '(no index configured)'}`, async () =>
      createPineconeVectorStore({ apiKey: required(await secrets(), 'PINECONE_API_KEY'), indexName: pinecone.indexName, indexHost: pinecone.indexHost, maxAttempts: pinecone.maxRetries + 1 }),
    ),
    metabase: metabase.url
      ? lazyQuestionSource(`Metabase ${metabase.url}`, async () =>
          createMetabaseSource({ url: metabase.url as string, apiKey: required(await secrets(), 'METABASE_API_KEY'), dateParameter: metabase.dateParameter }),
        )
      : undefined,
    // Only the planner has LARGE_CSV_STATE_MACHINE_ARN (and states:StartExecution on that machine).
    fanout: config.largeCsv.stateMachineArn ? createStepFunctionsFanout(new SFNClient({}), config.largeCsv.stateMachineArn) : undefined,
    logger: createLogger(),
    now: () => new Date(),
  };
}
