/**
 * The provider clients (OpenAI, Pinecone, Metabase) and the pacer, built from the configuration
 * the same way on Lambda and in local mode; only where the keys come from differs (the stage's
 * secret on Lambda, the environment locally). Keys are asked for on first use, so a function that
 * never calls a provider never reads its secret.
 */
import type { Config } from '../config';
import { createMetabaseSource } from '../adapters/metabase/metabaseSource';
import { createOpenAIEmbedder } from '../adapters/openai/openaiEmbedder';
import { createPineconeVectorStore } from '../adapters/pinecone/pineconeVectorStore';
import { createRequestPacer, type RatePacer } from '../domain/pacer';
import type { Embedder, Logger, QuestionSource, VectorStore } from '../ports';
import { lazyEmbedder, lazyQuestionSource, lazyVectorStore } from './lazy';

export type KeyReader = () => Promise<string>;

/** Each client writes one WARN line to `logger` per attempt it is about to send again. */
export function openAIEmbedder({ openai }: Config, apiKey: KeyReader, logger: Logger): Embedder {
  const { model, dimensions, baseURL, maxRetries } = openai;
  return lazyEmbedder({ description: `OpenAI ${model}`, model, dimensions }, async () =>
    createOpenAIEmbedder({ apiKey: await apiKey(), baseURL, model, dimensions, maxRetries, logger }),
  );
}

export function pineconeVectorStore({ pinecone }: Config, apiKey: KeyReader, logger: Logger): VectorStore {
  const { indexName, indexHost, maxRetries } = pinecone;
  return lazyVectorStore(`Pinecone ${indexHost ?? indexName ?? '(no index configured)'}`, async () =>
    createPineconeVectorStore({ apiKey: await apiKey(), indexName, indexHost, maxAttempts: maxRetries + 1, logger }),
  );
}

/** Undefined when no Metabase is configured (METABASE_URL). */
export function metabaseSource({ metabase }: Config, apiKey: KeyReader, logger: Logger): QuestionSource | undefined {
  const { url, dateParameter } = metabase;
  if (!url) return undefined;
  return lazyQuestionSource(`Metabase ${url}`, async () => createMetabaseSource({ url, apiKey: await apiKey(), dateParameter, logger }));
}

/** Keeps `consumers` pacers that share no memory, together, within the configured RPM/TPM budget. */
export function requestPacer({ openai }: Config, consumers: number): RatePacer {
  return createRequestPacer({
    requestsPerMinute: openai.rpm,
    tokensPerMinute: openai.tpm,
    followProviderTokenLimit: openai.tpmFromProvider,
    consumers,
  });
}
