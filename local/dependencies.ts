/**
 * The composition root of local mode: the same adapters as on AWS where an emulator speaks the
 * real API (DynamoDB, S3), the in-process bus, and the embedded defaults when no provider key is
 * set: the offline embedder instead of OpenAI and LanceDB on disk instead of Pinecone.
 */
import path from 'node:path';
import { createDynamoContentHashStore } from '../shared/adapters/dynamodb/contentHashStore';
import { createDynamoCatchupLedger } from '../shared/adapters/dynamodb/catchupLedger';
import { createDynamoChunkPlans } from '../shared/adapters/dynamodb/chunkPlans';
import { createDynamoSyncLedger } from '../shared/adapters/dynamodb/syncLedger';
import { createDynamoTaskQueries } from '../shared/adapters/dynamodb/taskQueries';
import { createDynamoTaskRepository } from '../shared/adapters/dynamodb/taskRepository';
import { createS3ObjectStore } from '../shared/adapters/s3/objectStore';
import { metabaseSource, openAIEmbedder, pineconeVectorStore, requestPacer } from '../shared/composition/providers';
import type { Config } from '../shared/config';
import { createRequestPacer } from '../shared/domain/pacer';
import { pipelineEvents } from '../shared/events/publish';
import { createLogger } from '../shared/logger';
import type { Dependencies, EventPublisher } from '../shared/ports';
import { createLanceDbVectorStore } from './adapters/lancedbVectorStore';
import { createOfflineEmbedder } from './adapters/offlineEmbedder';
import type { Emulators } from './emulators';

/** A key from the environment, when one is set. */
const fromEnv = (key: string | undefined) => (key ? async () => key : undefined);

export function localDependencies(config: Config, emulators: Emulators, bus: EventPublisher, dataDir: string): Dependencies {
  const openaiKey = fromEnv(config.openai.apiKey);
  const pineconeKey = fromEnv(config.pinecone.apiKey);
  const metabaseKey = fromEnv(config.metabase.apiKey);
  const logger = createLogger(() => [config.apiKey, config.openai.apiKey, config.pinecone.apiKey, config.metabase.apiKey]);
  return {
    config,
    apiKey: async () => config.apiKey,
    tasks: createDynamoTaskRepository(emulators.dynamo, config.tableName),
    taskQueries: createDynamoTaskQueries(emulators.dynamo, config.tableName),
    sync: createDynamoSyncLedger(emulators.dynamo, config.tableName),
    catchup: createDynamoCatchupLedger(emulators.dynamo, config.tableName),
    plans: createDynamoChunkPlans(emulators.dynamo, config.tableName),
    hashes: createDynamoContentHashStore(emulators.dynamo, config.tableName, { logger }),
    objects: createS3ObjectStore(emulators.s3, config.bucketName),
    events: pipelineEvents(bus, config.eventSource),
    embedder: openaiKey ? openAIEmbedder(config, openaiKey, logger) : createOfflineEmbedder({ dimensions: config.openai.dimensions }),
    // In one process the consumers share this one pacer, so it holds the whole budget; the offline embedder has none to keep to.
    pacer: openaiKey ? requestPacer(config, 1) : createRequestPacer({ consumers: 1 }),
    vectors: pineconeKey
      ? pineconeVectorStore(config, pineconeKey, logger)
      : createLanceDbVectorStore({ directory: path.join(dataDir, 'vectors'), dimensions: config.openai.dimensions }),
    metabase: metabaseKey && metabaseSource(config, metabaseKey, logger),
    logger,
    now: () => new Date(),
  };
}
