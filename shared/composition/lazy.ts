/**
 * Adapters whose secrets are fetched on first use. On Lambda only the functions that call a
 * provider (and so hold secrets:read) ever fetch the secret; the others never touch it.
 */
import type { Embedder, QuestionSource, VectorStore } from '../ports';

export function once<T>(factory: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= factory().catch((error) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}

export function lazyEmbedder(known: Pick<Embedder, 'description' | 'model' | 'dimensions'>, build: () => Promise<Embedder>): Embedder {
  const real = once(build);
  return { ...known, embed: async (inputs) => (await real()).embed(inputs) };
}

export function lazyVectorStore(description: string, build: () => Promise<VectorStore>): VectorStore {
  const real = once(build);
  return {
    description,
    upsert: async (namespace, records) => (await real()).upsert(namespace, records),
    fetch: async (namespace, ids) => (await real()).fetch(namespace, ids),
    delete: async (namespace, ids) => (await real()).delete(namespace, ids),
    query: async (namespace, vector, topK) => (await real()).query(namespace, vector, topK),
  };
}

export function lazyQuestionSource(description: string, build: () => Promise<QuestionSource>): QuestionSource {
  const real = once(build);
  return {
    description,
    async *rows(questionId, options) {
      yield* (await real()).rows(questionId, options);
    },
  };
}
