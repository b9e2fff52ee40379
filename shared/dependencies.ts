/**
 * What the use cases need from the outside world. The AWS composition root
 * (shared/runtime/aws.ts) and the local runtime (local/) each build one; handlers take a
 * provider of it, so the same handler code runs on Lambda, locally and in tests.
 */
import type { Config } from './config';
import type { TaskRepository } from './adapters/dynamodb/taskRepository';
import type { Logger } from './logger';
import type { ContentHashStore, DeadLetterSink, Embedder, EventPublisher, ObjectStore, QuestionSource, VectorStore } from './ports';
import type { RequestPacer } from './domain/rateBudget';
import type { LargeCsvFanout } from './usecases/planSegment';

export interface Dependencies {
  config: Config;
  /** The key callers must send as x-api-key; undefined leaves the check to API Gateway alone. */
  apiKey: () => Promise<string | undefined>;
  tasks: TaskRepository;
  objects: ObjectStore;
  events: EventPublisher;
  embedder: Embedder;
  /** Spaces embedding requests so that all consumers together keep to the RPM/TPM budget. */
  pacer: RequestPacer;
  vectors: VectorStore;
  /** The content hash each vector had when last upserted, so unchanged records cost nothing. */
  hashes: ContentHashStore;
  /** Undefined when no Metabase is configured (METABASE_URL). */
  metabase?: QuestionSource;
  /** Starts the large-CSV state machine; undefined plans every CSV in the planner Lambda. */
  fanout?: LargeCsvFanout;
  logger: Logger;
  now: () => Date;
}

export type DependencyProvider = () => Promise<Dependencies>;

/** What an SQS consumer needs besides the dependencies: its retry budget and its DLQ. */
export interface ConsumerContext {
  deps: Dependencies;
  maxReceiveCount: number;
  deadLetters: DeadLetterSink;
}

export type ConsumerContextProvider = () => Promise<ConsumerContext>;
