/**
 * The composition root of local mode: the same adapters as on AWS where an emulator speaks the
 * real API (DynamoDB, S3), the in-process bus, and the embedded defaults when no provider key is
 * set: the offline embedder instead of OpenAI and LanceDB on disk instead of Pinecone.
 */
import path from 'node:path';
import type { Config } from '../shared/config';
import type { Dependencies } from '../shared/dependencies';
import type { EventPublisher, Embedder, VectorStore } from '../shared/ports';
import { createDynamoContentHashStore } from '../shared/adapters/dynamodb/contentHashStore';
import { createDynamoTaskRepository } from '../shared/adapters/dynamodb/taskRepository';
import { createLanceDbVectorStore } from '../shared/adapters/lancedb/lancedbVectorStore';
import { createOfflineEmbedder } from '../shared/adapters/offline/offlineEmbedder';
import { createOpenAIEmbedder } from '../shared/adapters/openai/openaiEmbedder';
import { metabaseFrom } from '../shared/adapters/metabase/metabaseSource';
import { createPineconeVectorStore } from '../shared/adapters/pinecone/pineconeVectorStore';
import { createS3ObjectStore } from '../shared/adapters/s3/objectStore';
import { createRequestPacer } from '../shared/domain/rateBudget';
import { createLogger } from '../shared/logger';
import { validatingPublisher } from '../shared/events/validate';
import type { Emulators } from './emulators';

function chooseEmbedder(config: Config): Embedder {
  if (!config.openai.apiKey) return createOfflineEmbedder({ dimensions: config.openai.dimensions });
  return createOpenAIEmbedder({ apiKey: config.openai.apiKey, baseURL: config.openai.baseURL, model: config.openai.model, dimensions: config.openai.dimensions, maxRetries: config.openai.maxRetries });
}

function chooseVectorStore(config: Config, dataDir: string): VectorStore {
  if (!config.pinecone.apiKey) return createLanceDbVectorStore({ directory: path.join(dataDir, 'vectors'), dimensions: config.openai.dimensions });
  return createPineconeVectorStore({ apiKey: config.pinecone.apiKey, indexName: config.pinecone.indexName, indexHost: config.pinecone.indexHost, maxAttempts: config.pinecone.maxRetries + 1 });
}

export function localDependencies(config: Config, emulators: Emulators, events: EventPublisher, dataDir: string): Dependencies {
  const embedder = chooseEmbedder(config);
  return {
    config,
    apiKey: async () => config.apiKey,
    tasks: createDynamoTaskRepository(emulators.dynamo, config.tableName),
    hashes: createDynamoContentHashStore(emulators.dynamo, config.tableName),
    objects: createS3ObjectStore(emulators.s3, config.bucketName),
    events: validatingPublisher(events),
    embedder,
    // The offline embedder has no provider budget to respect. In one process the consumers share this one pacer, so it holds the whole budget.
    pacer: config.openai.apiKey ? createRequestPacer({ requestsPerMinute: config.openai.rpm, tokensPerMinute: config.openai.tpm, followProviderTokenLimit: config.openai.tpmFromProvider, consumers: 1 }) : createRequestPacer({ consumers: 1 }),
    vectors: chooseVectorStore(config, dataDir),
    metabase: metabaseFrom(config),
    logger: createLogger(),
    now: () => new Date(),
  };
}
