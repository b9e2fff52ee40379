/**
 * Configuration from environment variables, read when a composition root asks (never at import
 * time), validated so that a typo fails loudly. Names of the older system are kept.
 */
import { isValidDate } from './domain/dates';
import { ConfigurationError } from './errors';

export interface Config {
  tableName: string;
  bucketName: string;
  eventBusName: string;
  eventSource: string;
  region: string;
  /** Expected API key; undefined only when a deployment leaves key checks to API Gateway alone. */
  apiKey?: string;
  openai: {
    apiKey?: string;
    baseURL?: string;
    model: string;
    dimensions: number;
    requestsPerSecond: number;
    /** Requests per minute for the whole pipeline: OPENAI_RPM, else OPENAI_REQUESTS_PER_SECOND × 60. */
    rpm: number;
    /** Tokens per minute for the whole pipeline: OPENAI_TPM, else the provider's advertised limit (1,000,000 if it advertises none). */
    tpm: number;
    /** True when OPENAI_TPM is unset: the pacer follows the provider's x-ratelimit-limit-tokens instead of `tpm`. */
    tpmFromProvider: boolean;
    maxRetries: number;
    /** US dollars per million embedding tokens, for dry-run estimates. */
    pricePerMillionTokens: number;
  };
  pinecone: {
    apiKey?: string;
    indexName?: string;
    indexHost?: string;
    namespace: string;
    batchSize: number;
    maxRetries: number;
  };
  metabase: {
    url?: string;
    apiKey?: string;
    /** The default saved question when a request names none. */
    questionId?: string;
    /** The question's date template tag that start_date fills, and its parameter type. */
    dateParameter: { name: string; type: string };
  };
  columns: {
    text: string;
    id: string;
    date: string;
    deleted: string;
    /** True when DATE_COLUMN is set; else each source's date column is looked for (README › API, `start_date`). */
    dateExplicit: boolean;
  };
  /** A text longer than one vector holds: split into overlapping pieces (`split`), or cut (`truncate`). */
  longText: { mode: LongTextMode; maxTokensPerVector: number; overlapTokens: number };
  /** Where an object must land to start a task through the S3 trigger (from the wiring); undefined without one. */
  ingest?: { prefix: string; suffix: string };
  /** Full syncs (sync=full): which S3 drops are ones, and how much of a dataset one may delete unasked. */
  sync: {
    /** Objects under this prefix start full syncs; the next path segment names the dataset. */
    fullSyncPrefix: string;
    /** A full sync that would delete more than this share of its dataset's vectors deletes nothing, unless allow_mass_delete. */
    maxDeleteFraction: number;
  };
  /**
   * A chunk closes at `records` records or once it holds `maxBytes` bytes. A cl100k token is at
   * least one byte, so the bytes bound the tokens too: by default `maxBytes` is what one consumer's
   * share of the token budget embeds in half the embedder's timeout, so that pacing never holds a
   * chunk past its Lambda's end (at most 8 MiB, at least 64 KiB).
   */
  chunk: { records: number; maxBytes: number };
  /** start_date=auto (README › Scheduled catch-ups): how far before the last completed run's start it reaches, and a source's first date. */
  catchup: { overlapDays: number; initialStartDate?: string };
  /** A RUNNING or PENDING task with no progress for this long is the sweeper's (README › What is guaranteed). */
  stuckTaskMinutes: number;
  /** Parallel consumers of the chunk queue: the share of the request budget each one may use. */
  embedderConcurrency: number;
  /** The embedder Lambda's timeout (from the wiring). */
  embedderTimeoutSeconds: number;
  /** CSV objects larger than thresholdBytes are planned by the Step Functions loop, segment by segment. */
  largeCsv: {
    thresholdBytes: number;
    /** ARN of the deployed state machine (set by the template); local mode starts its own. */
    stateMachineArn?: string;
    /** Longest a segment plans, and the time it leaves unused before its Lambda's timeout. */
    segmentBudgetMs: number;
    segmentMarginMs: number;
  };
}

type Env = Record<string, string | undefined>;

export const LONG_TEXT_MODES = ['split', 'truncate'] as const;
export type LongTextMode = (typeof LONG_TEXT_MODES)[number];

export const DEFAULTS = {
  tableName: 'vectordb-tasks-local',
  bucketName: 'vectordb-catchup-local',
  eventBusName: 'vectordb-catchup-local',
  eventSource: 'vectordb-catchup',
  region: 'us-east-1',
  model: 'text-embedding-3-small',
  dimensions: 1536,
  requestsPerSecond: 20,
  /** When OPENAI_TPM is unset and the provider advertises no limit: text-embedding-3-small's usage tier 1 (1M TPM, 3,000 RPM). */
  tokensPerMinute: 1_000_000,
  maxRetries: 6,
  /** text-embedding-3-small's list price. */
  pricePerMillionTokens: 0.02,
  namespace: '__default__',
  pineconeBatchSize: 100,
  textColumn: 'formatted_text',
  idColumn: 'id',
  dateColumn: 'date',
  deletedColumn: '_deleted',
  fullSyncPrefix: 'incoming/full/',
  syncMaxDeleteFraction: 0.5,
  /** text-embedding-3-small takes 8192 tokens per input; one of margin. */
  maxTokensPerVector: 8191,
  pieceOverlapTokens: 200,
  chunkRecords: 1000,
  chunkMaxBytes: 8 * 1024 * 1024,
  chunkMinBytes: 64 * 1024,
  embedderConcurrency: 5,
  embedderTimeoutSeconds: 300,
  catchupOverlapDays: 1,
  /**
   * Longer than any healthy silence: the planner's message is redelivered after its visibility
   * timeout (6 × 900 s = 90 min) and may then plan for up to 15 min before the task moves.
   */
  stuckTaskMinutes: 120,
} as const;

export function loadConfig(env: Env = process.env): Config {
  const tpm = number(env, 'OPENAI_TPM', DEFAULTS.tokensPerMinute, 1, 1e11);
  const embedderConcurrency = integer(env, 'EMBEDDER_CONCURRENCY', DEFAULTS.embedderConcurrency, 1, 1000);
  const embedderTimeoutSeconds = integer(env, 'EMBEDDER_TIMEOUT_SECONDS', DEFAULTS.embedderTimeoutSeconds, 1, 900);
  const tokensPerConsumerInHalfTheTimeout = Math.floor((tpm / embedderConcurrency) * (embedderTimeoutSeconds / 2 / 60));
  const chunkMaxBytes = Math.min(DEFAULTS.chunkMaxBytes, Math.max(DEFAULTS.chunkMinBytes, tokensPerConsumerInHalfTheTimeout));
  return {
    tableName: text(env, 'DYNAMODB_TABLE_NAME', DEFAULTS.tableName),
    bucketName: text(env, 'S3_BUCKET_NAME', DEFAULTS.bucketName),
    eventBusName: text(env, 'EVENT_BUS_NAME', DEFAULTS.eventBusName),
    eventSource: text(env, 'EVENT_SOURCE', DEFAULTS.eventSource),
    region: text(env, 'AWS_REGION', DEFAULTS.region),
    apiKey: optional(env, 'API_KEY'),
    openai: {
      apiKey: optional(env, 'OPENAI_API_KEY'),
      baseURL: optional(env, 'OPENAI_BASE_URL'),
      model: text(env, 'OPENAI_EMBEDDING_MODEL', DEFAULTS.model),
      dimensions: integer(env, 'OPENAI_EMBEDDING_DIMENSIONS', DEFAULTS.dimensions, 1, 3072),
      requestsPerSecond: number(env, 'OPENAI_REQUESTS_PER_SECOND', DEFAULTS.requestsPerSecond, 0.01, 100000),
      rpm: number(env, 'OPENAI_RPM', number(env, 'OPENAI_REQUESTS_PER_SECOND', DEFAULTS.requestsPerSecond, 0.01, 100000) * 60, 1, 1e9),
      tpm,
      tpmFromProvider: optional(env, 'OPENAI_TPM') === undefined,
      maxRetries: integer(env, 'OPENAI_MAX_RETRIES', DEFAULTS.maxRetries, 0, 20),
      pricePerMillionTokens: number(env, 'EMBEDDING_PRICE_PER_MILLION_TOKENS', DEFAULTS.pricePerMillionTokens, 0, 1000),
    },
    pinecone: {
      apiKey: optional(env, 'PINECONE_API_KEY'),
      indexName: optional(env, 'PINECONE_INDEX_NAME'),
      indexHost: optional(env, 'PINECONE_INDEX_HOST'),
      namespace: text(env, 'PINECONE_NAMESPACE', DEFAULTS.namespace),
      batchSize: integer(env, 'PINECONE_BATCH_SIZE', DEFAULTS.pineconeBatchSize, 1, 1000),
      maxRetries: integer(env, 'PINECONE_MAX_RETRIES', DEFAULTS.maxRetries, 0, 20),
    },
    metabase: {
      url: optional(env, 'METABASE_URL'),
      apiKey: optional(env, 'METABASE_API_KEY'),
      questionId: optional(env, 'METABASE_QUESTION_ID'),
      dateParameter: {
        name: text(env, 'METABASE_DATE_PARAMETER', 'start_date'),
        type: text(env, 'METABASE_DATE_PARAMETER_TYPE', 'date/single'),
      },
    },
    columns: {
      text: text(env, 'TEXT_COLUMN', DEFAULTS.textColumn),
      id: text(env, 'ID_COLUMN', DEFAULTS.idColumn),
      date: text(env, 'DATE_COLUMN', DEFAULTS.dateColumn),
      dateExplicit: optional(env, 'DATE_COLUMN') !== undefined,
      deleted: text(env, 'DELETED_COLUMN', DEFAULTS.deletedColumn),
    },
    longText: longTextSettings(env),
    ...ingestSettings(env),
    sync: {
      fullSyncPrefix: text(env, 'FULL_SYNC_PREFIX', DEFAULTS.fullSyncPrefix),
      maxDeleteFraction: number(env, 'SYNC_MAX_DELETE_FRACTION', DEFAULTS.syncMaxDeleteFraction, 0, 1),
    },
    chunk: {
      records: integer(env, 'CHUNK_SIZE', DEFAULTS.chunkRecords, 1, 100000),
      maxBytes: integer(env, 'CHUNK_MAX_BYTES', chunkMaxBytes, 1024, 512 * 1024 * 1024),
    },
    catchup: catchupSettings(env),
    stuckTaskMinutes: number(env, 'STUCK_TASK_MINUTES', DEFAULTS.stuckTaskMinutes, 0.001, 7 * 24 * 60),
    embedderConcurrency,
    embedderTimeoutSeconds,
    largeCsv: {
      thresholdBytes: integer(env, 'LARGE_CSV_THRESHOLD_BYTES', 256 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER),
      stateMachineArn: optional(env, 'LARGE_CSV_STATE_MACHINE_ARN'),
      segmentBudgetMs: integer(env, 'LARGE_CSV_SEGMENT_BUDGET_MS', 10 * 60 * 1000, 1, 15 * 60 * 1000),
      segmentMarginMs: integer(env, 'LARGE_CSV_SEGMENT_MARGIN_MS', 60 * 1000, 0, 15 * 60 * 1000),
    },
  };
}

function ingestSettings(env: Env): Pick<Config, 'ingest'> {
  const prefix = optional(env, 'INGEST_PREFIX');
  const suffix = optional(env, 'INGEST_SUFFIX');
  if ((prefix === undefined) !== (suffix === undefined)) throw new ConfigurationError('INGEST_PREFIX and INGEST_SUFFIX go together');
  return prefix !== undefined && suffix !== undefined ? { ingest: { prefix, suffix } } : {};
}

function longTextSettings(env: Env): Config['longText'] {
  const mode = text(env, 'LONG_TEXT', 'split');
  if (!(LONG_TEXT_MODES as readonly string[]).includes(mode))
    throw new ConfigurationError(`LONG_TEXT must be one of ${LONG_TEXT_MODES.join(', ')}, got "${mode}"`);
  const maxTokensPerVector = integer(env, 'MAX_TOKENS_PER_VECTOR', DEFAULTS.maxTokensPerVector, 1, DEFAULTS.maxTokensPerVector);
  const overlapTokens = integer(env, 'PIECE_OVERLAP_TOKENS', Math.min(DEFAULTS.pieceOverlapTokens, maxTokensPerVector - 1), 0, 1e9);
  if (overlapTokens >= maxTokensPerVector) {
    throw new ConfigurationError(
      `PIECE_OVERLAP_TOKENS (${overlapTokens}) must be smaller than MAX_TOKENS_PER_VECTOR (${maxTokensPerVector})`,
    );
  }
  return { mode: mode as LongTextMode, maxTokensPerVector, overlapTokens };
}

function catchupSettings(env: Env): Config['catchup'] {
  const initialStartDate = optional(env, 'CATCHUP_INITIAL_START_DATE');
  if (initialStartDate !== undefined && !isValidDate(initialStartDate))
    throw new ConfigurationError(`CATCHUP_INITIAL_START_DATE must be a real date as YYYY-MM-DD, got "${initialStartDate}"`);
  return {
    overlapDays: integer(env, 'CATCHUP_OVERLAP_DAYS', DEFAULTS.catchupOverlapDays, 0, 3650),
    ...(initialStartDate ? { initialStartDate } : {}),
  };
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function text(env: Env, name: string, fallback: string): string {
  return optional(env, name) ?? fallback;
}

function number(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = number(env, name, fallback, min, max);
  if (!Number.isInteger(value)) throw new ConfigurationError(`${name} must be a whole number, got "${env[name]}"`);
  return value;
}
