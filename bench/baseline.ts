/** The older system's embedding calls, for the baseline mode. */
import type { RatePacer } from '../shared/domain/pacer';
import type { Embedder, Vector } from '../shared/ports';
import { currentSlot } from './consumers';
import { BASELINE } from './settings';

/** Inputs in groups of 100, each request paced to 20/s in all. */
export function baselineEmbedder(inner: Embedder, pacers: RatePacer[]): Embedder {
  return {
    description: `${inner.description} (older strategy)`,
    model: inner.model,
    dimensions: inner.dimensions,
    async embed(inputs) {
      const vectors: Vector[] = [];
      let tokens = 0;
      for (let start = 0; start < inputs.length; start += BASELINE.inputsPerRequest) {
        await pacers[Math.min(currentSlot(), pacers.length - 1)].acquire();
        const result = await inner.embed(inputs.slice(start, start + BASELINE.inputsPerRequest));
        vectors.push(...result.vectors);
        tokens += result.tokens;
      }
      return { vectors, tokens };
    },
  };
}
