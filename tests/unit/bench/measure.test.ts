/** A run's periods from its samples: the first minute and what came after, as the benchmark prints them. */
import { period } from '../../../bench/measure';

// One sample a second: 1,000 tokens and one request each second, a 429 in the 30th and the 70th.
const samples = Array.from({ length: 91 }, (_, t) => ({
  t,
  tokens: 1000 * t,
  requests: t,
  rateLimited: (t >= 30 ? 1 : 0) + (t >= 70 ? 1 : 0),
}));
const TPM = 60_000; // 1,000 tokens a second

describe('period', () => {
  it('measures the first minute from the start of the run', () => {
    expect(period(samples, 0, 60, TPM)).toEqual({
      fromSeconds: 0,
      toSeconds: 60,
      utilisation: 1,
      requests: 60,
      rateLimited: 1,
      rateLimitedShare: 1 / 60,
    });
  });

  it('measures what came after from the last sample at or before its start, to the end', () => {
    expect(period(samples, 60, Infinity, TPM)).toMatchObject({ fromSeconds: 60, toSeconds: 90, requests: 30, rateLimited: 1 });
  });

  it('is the whole run for a run shorter than the period', () => {
    expect(period(samples.slice(0, 21), 0, 60, TPM / 2)).toMatchObject({ toSeconds: 20, utilisation: 2, rateLimited: 0 });
  });
});
