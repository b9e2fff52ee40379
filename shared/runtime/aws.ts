/**
 * The composition root on Lambda: real AWS clients, OpenAI and Pinecone, built once per
 * container. Secrets are read at run time from the Secrets Manager secret named by SECRETS_ID
 * (cached by Powertools Parameters), so they are never in the template or the function's
 * configuration; their names are those of the older system (OPENAI_API_KEY, PINECONE_API_KEY, …).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { loadConfig, type Config } from '../config';
import type { ConsumerContext, Dependencies } from '../dependencies';
import { ConfigurationError } from '../errors';
import { createDynamoTaskRepository } from '../adapters/dynamodb/taskRepository';
import { createEventBridgePublisher } from '../adapters/eventbridge/eventPublisher';
import { createOpenAIEmbedder } from '../adapters/openai/openaiEmbedder';
import { metabaseFrom } from '../adapters/metabase/metabaseSource';
import { createPineconeVectorStore } from '../adapters/pinecone/pineconeVectorStore';
import { createS3ObjectStore } from '../adapters/s3/objectStore';
import { createSqsDeadLetterSink } from '../adapters/sqs/deadLetterQueue';
import { createRequestPacer } from '../domain/rateBudget';
import { createLogger } from '../logger';
import { validatingPublisher } from '../events/validate';

const SECRET_NAMES = ['OPENAI_API_KEY', 'PINECONE_API_KEY', 'METABASE_API_KEY', 'API_KEY'] as const;

let dependencies: Promise<Dependencies> | undefined;
let consumer: Promise<ConsumerContext> | undefined;

export function awsDependencies(): Promise<Dependencies> {
  dependencies ??= buildAwsDependencies().catch((error) => {
    dependencies = undefined;
    throw error;
  });
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

async function environmentWithSecrets(): Promise<NodeJS.ProcessEnv> {
  const secretsId = process.env.SECRETS_ID;
  if (!secretsId) return process.env;
  const secrets = (await getSecret<Record<string, string>>(secretsId, { transform: 'json', maxAge: 300 })) ?? {};
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SECRET_NAMES) if (secrets[name]) merged[name] = secrets[name];
  return merged;
}

async function buildAwsDependencies(): Promise<Dependencies> {
  const config: Config = loadConfig(await environmentWithSecrets());
  if (!config.openai.apiKey) throw new ConfigurationError('OPENAI_API_KEY is missing from the secret named by SECRETS_ID');
  if (!config.pinecone.apiKey) throw new ConfigurationError('PINECONE_API_KEY is missing from the secret named by SECRETS_ID');
  return {
    config,
    tasks: createDynamoTaskRepository(new DynamoDBClient({}), config.tableName),
    objects: createS3ObjectStore(new S3Client({}), config.bucketName),
    events: validatingPublisher(createEventBridgePublisher(new EventBridgeClient({}), config.eventBusName)),
    embedder: createOpenAIEmbedder({ apiKey: config.openai.apiKey, baseURL: config.openai.baseURL, model: config.openai.model, dimensions: config.openai.dimensions, maxRetries: config.openai.maxRetries }),
    pacer: createRequestPacer({ requestsPerSecond: config.openai.requestsPerSecond, consumers: config.embedderConcurrency }),
    vectors: createPineconeVectorStore({ apiKey: config.pinecone.apiKey, indexName: config.pinecone.indexName, indexHost: config.pinecone.indexHost, maxAttempts: config.pinecone.maxRetries + 1 }),
    metabase: metabaseFrom(config),
    logger: createLogger(),
    now: () => new Date(),
  };
}
