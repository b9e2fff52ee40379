/**
 * Every port the use cases may need, as the composition roots build them: the AWS one
 * (shared/composition/aws.ts) and the local runtime's (local/). Each use case declares the few it
 * uses (a `Pick` of this), so a test passes small fakes of exactly those.
 */
import type { Config } from '../config';
import type { CatchupLedger } from './catchupLedger';
import type { ChunkPlanStore } from './chunkPlans';
import type { ContentHashStore } from './contentHashes';
import type { Embedder, RequestPacer } from './embedder';
import type { DeadLetterSink, PipelineEvents } from './events';
import type { LargeCsvPlanner } from './largeCsv';
import type { Logger } from './logger';
import type { ObjectStore } from './objects';
import type { QuestionSource } from './questionSource';
import type { SyncLedger } from './syncLedger';
import type { TaskQueries } from './taskQueries';
import type { TaskRepository } from './tasks';
import type { VectorStore } from './vectors';

export interface Dependencies {
  config: Config;
  /** The key callers must send as x-api-key; undefined leaves the check to API Gateway alone. */
  apiKey: () => Promise<string | undefined>;
  tasks: TaskRepository;
  /** Tasks newest first and each chunk's result, for the operators' API. */
  taskQueries: TaskQueries;
  /** Every announced chunk's plan, for announcing again what was lost (the sweeper). */
  plans: ChunkPlanStore;
  /** A full sync's place and scanned pages. */
  sync: SyncLedger;
  /** Each source's catch-up watermark and the runs of it still going (start_date=auto, schedules). */
  catchup: CatchupLedger;
  objects: ObjectStore;
  events: PipelineEvents;
  embedder: Embedder;
  /** Spaces embedding requests so that all consumers together keep to the RPM/TPM budget. */
  pacer: RequestPacer;
  vectors: VectorStore;
  /** The content hash each vector had when last upserted, so unchanged records cost nothing. */
  hashes: ContentHashStore;
  /** Undefined when no Metabase is configured (METABASE_URL). */
  metabase?: QuestionSource;
  /** Starts the large-CSV state machine; undefined plans every CSV in the planner Lambda. */
  largeCsv?: LargeCsvPlanner;
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
