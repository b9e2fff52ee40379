/**
 * OpenAI's rate limits as two buckets, requests and tokens, refilled continuously at `rpm`/60 and
 * `tpm`/60 per second and holding `bucketSeconds` worth of budget: the 429s they answer, worded as
 * OpenAI words them, and the `x-ratelimit-*` headers every answer carries.
 */
import { RateBucket } from '../rateBucket';
import { apiError, retryAfterHeaders } from './errors';
import { formatGoDuration } from './goDuration';
import type { OpenAISimulatorStats } from './types';

export interface RateLimitOptions {
  rpm: number;
  tpm: number;
  bucketSeconds: number;
  now: () => number;
  organization: string;
}

/** Starts with both buckets full; counts its 429s in `stats.rateLimited`. */
export class RateLimits {
  private readonly requestBucket: RateBucket;
  private readonly tokenBucket: RateBucket;

  constructor(
    private readonly options: RateLimitOptions,
    private readonly stats: Pick<OpenAISimulatorStats, 'rateLimited'>,
  ) {
    this.requestBucket = RateBucket.perMinute(options.rpm, options.bucketSeconds, options.now);
    this.tokenBucket = RateBucket.perMinute(options.tpm, options.bucketSeconds, options.now);
  }

  /** Takes the request from both buckets, or answers 429 the way OpenAI words it. */
  admit(model: string, tokens: number): void {
    const { rpm, tpm, organization } = this.options;
    if (tokens > this.tokenBucket.capacity) {
      throw apiError(
        429,
        `Request too large for ${model} in organization ${organization} on tokens per min (TPM): Limit ${tpm}, Requested ${tokens}. ` +
          'The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.',
        { type: 'tokens', code: 'rate_limit_exceeded' },
      );
    }
    const requestWait = this.requestBucket.waitMs(1);
    const tokenWait = this.tokenBucket.waitMs(tokens);
    if (requestWait === 0 && tokenWait === 0) {
      this.requestBucket.take(1);
      this.tokenBucket.take(tokens);
      return;
    }
    const [kind, bucket, wait, limit, requested] =
      requestWait > 0
        ? (['requests', this.requestBucket, requestWait, rpm, 1] as const)
        : (['tokens', this.tokenBucket, tokenWait, tpm, tokens] as const);
    this.stats.rateLimited[kind]++;
    const unit = kind === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
    const used = Math.ceil(bucket.capacity - bucket.level());
    throw apiError(
      429,
      `Rate limit reached for ${model} in organization ${organization} on ${unit}: Limit ${limit}, Used ${used}, Requested ${requested}. ` +
        `Please try again in ${formatGoDuration(wait)}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      { type: kind, code: 'rate_limit_exceeded' },
      retryAfterHeaders(wait),
    );
  }

  /** Remaining is each bucket's level; reset is the time until it is full again. */
  headers(): Record<string, string> {
    return {
      'x-ratelimit-limit-requests': String(this.options.rpm),
      'x-ratelimit-limit-tokens': String(this.options.tpm),
      'x-ratelimit-remaining-requests': String(Math.floor(this.requestBucket.level())),
      'x-ratelimit-remaining-tokens': String(Math.floor(this.tokenBucket.level())),
      'x-ratelimit-reset-requests': formatGoDuration(this.requestBucket.msUntilFull()),
      'x-ratelimit-reset-tokens': formatGoDuration(this.tokenBucket.msUntilFull()),
    };
  }
}
