/**
 * Pacing embedding requests to the provider's budget: requests per minute (RPM) and tokens per
 * minute (TPM). The budget is shared by consumers that share no memory (on AWS, the embedder's
 * Lambda instances, at most EMBEDDER_CONCURRENCY at once), so each consumer keeps to its own
 * share, 1/consumers of the budget, and adapts to what the provider tells it. Pure: the clock,
 * sleep and randomness are injected.
 *
 * The arithmetic:
 * - Two buckets per consumer, requests and tokens, refill continuously at the share's rate and
 *   hold at most `burstSeconds` of it. They start full, so that a run's first requests go at once
 *   (over a minute, a bucket that started empty would cost burstSeconds of it), and a consumer
 *   never sends more than its share since it started plus one bucket. A request of n tokens goes
 *   once the request bucket holds 1 and the token bucket holds min(n, capacity); both are then
 *   debited. The caller sizes its requests to the token bucket (`requestTokenLimit()`), so over
 *   any window a consumer sends at most rate × window + capacity, its burst; only a single input
 *   bigger than the bucket takes it below zero, paid off by waiting before the next request.
 *   Kept per bucket as the time at which it was (or will be) empty, so waits are exact,
 *   reservations made for the future are honoured, concurrent callers of one pacer (local mode,
 *   where in-process consumers share it) are served in order, and a capacity that changes never
 *   lets go more than has refilled.
 * - The provider's window: its token bucket holds `remaining + reset × limit/60 s` (OpenAI's
 *   per-minute limits hold a minute; "they may be enforced over shorter periods", and then hold
 *   a second or two). The consumers' bursts together must fit in it whenever they all come at
 *   once, since none knows when the others send: each consumer's burst (its token bucket, and so
 *   its largest request) is at most `windowFraction` of the window's 1/consumers. Until an answer
 *   says, the window is assumed to hold `assumedWindowSeconds` of the budget; each 429 (once per
 *   cooldown) halves the window assumed from then on, down to a quarter of that, for windows the
 *   headers do not show.
 * - The x-ratelimit-* headers: the provider's limit lowers ours when it is lower. When ours is only
 *   assumed (OPENAI_TPM unset), the provider's replaces it, up or down; tokens are then not paced
 *   until the first answer (each consumer sends one request, small as the assumed window allows,
 *   and waits for it), and the assumed budget holds only if that answer names no limit. With the
 *   bursts within `windowFraction` (at most half) of the window, the provider's remaining tokens
 *   (requests) cover one request like ours from every consumer unless the budget is spent
 *   elsewhere (another system on the same key): then the consumer holds until the provider has
 *   refilled the difference, at most until its reset, jittered so that consumers do not come
 *   back together.
 * - 429s, AIMD: a 429 the provider answered (retried by the client, or the one that ended the
 *   request) multiplies this consumer's rate by `decrease`, at most once per `decreaseCooldownMs`
 *   so that one burst of 429s counts once, down to `minMultiplier`; the rate recovers additively,
 *   `recoverPerSecond` of the share per second. A 429 that ended the request also holds sending
 *   for its retry-after (else an exponential backoff), jittered.
 */

import type { RateLimitInfo, RequestPacer } from '../ports';

export interface PacerOptions {
  /** The whole pipeline's request budget. */
  requestsPerMinute?: number;
  /** The older setting: requestsPerMinute = requestsPerSecond × 60 when requestsPerMinute is not given. */
  requestsPerSecond?: number;
  /** The whole pipeline's token budget; unlimited when not given. */
  tokensPerMinute?: number;
  /**
   * True when tokensPerMinute is only an assumption (OPENAI_TPM unset): tokens are not paced until
   * the first answer, whose x-ratelimit-limit-tokens then replaces it, up or down (it stands when
   * the answer names none). Otherwise the provider's limits only ever lower the configured ones.
   */
  followProviderTokenLimit?: boolean;
  /** How many consumers share the budget without sharing memory; this pacer keeps to 1/consumers of it. */
  consumers: number;
  /** Most seconds of the share a bucket holds (default 2). */
  burstSeconds?: number;
  /** Seconds of the budget the provider's window is assumed to hold until its headers say (default 1). */
  assumedWindowSeconds?: number;
  /** Share of the provider's window all consumers' bursts together may take (default 0.5). */
  windowFraction?: number;
  /** Rate multiplier per 429 (default 0.85). */
  decrease?: number;
  /** Floor of the rate multiplier (default 0.25). */
  minMultiplier?: number;
  /** Share of the full rate regained per second after a decrease (default 0.02: 0.85 → 1 in 7.5 s). */
  recoverPerSecond?: number;
  /** At most one decrease per this many milliseconds (default 2000). */
  decreaseCooldownMs?: number;
  /** Backoff after a final 429 that named no retry-after: base × 2^(n-1), capped (defaults 1 s, 30 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Extra random wait added to holds, as a fraction of the hold (default 0.5: hold × [1, 1.5)). */
  jitter?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** What a pacer has done so far (benchmarks, logs). */
export interface PacerSnapshot {
  requestsPerMinute: number;
  tokensPerMinute: number;
  /** The provider's token window this pacer sizes its bursts to (learned, assumed or cut by 429s); Infinity without a budget. */
  windowTokens: number;
  /** The most tokens it lets one request carry now. */
  requestTokenLimit: number;
  /** The AIMD multiplier of the share, 1 when no 429 was seen lately. */
  multiplier: number;
  acquired: { requests: number; tokens: number };
  /** Total milliseconds callers waited in acquire(). */
  waitedMs: number;
  /** Holds set from headers and from 429s. */
  holds: { headers: number; rateLimited: number };
  /** 429s observed (retried by the client or final). */
  rateLimited: number;
  decreases: number;
}

export interface RatePacer extends RequestPacer {
  observe(outcome: unknown): void;
  requestTokenLimit(): number;
  snapshot(): PacerSnapshot;
}

const MINUTE_MS = 60_000;

export function createRequestPacer(options: PacerOptions): RatePacer {
  const {
    consumers,
    followProviderTokenLimit = false,
    burstSeconds = 2,
    assumedWindowSeconds = 1,
    windowFraction = 0.5,
    decrease = 0.85,
    minMultiplier = 0.25,
    recoverPerSecond = 0.02,
    decreaseCooldownMs = 2000,
    backoffBaseMs = 1000,
    backoffMaxMs = 30_000,
    jitter = 0.5,
    now = Date.now,
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    random = Math.random,
  } = options;
  const configuredRpm = options.requestsPerMinute ?? (options.requestsPerSecond !== undefined ? options.requestsPerSecond * 60 : Infinity);
  const configuredTpm = options.tokensPerMinute ?? Infinity;
  for (const [name, value] of [
    ['requestsPerMinute', configuredRpm],
    ['tokensPerMinute', configuredTpm],
    ['burstSeconds', burstSeconds],
    ['assumedWindowSeconds', assumedWindowSeconds],
  ] as const) {
    if (!(value > 0)) throw new RangeError(`${name} must be positive, got ${value}`);
  }
  if (!(windowFraction > 0 && windowFraction <= 1)) throw new RangeError(`windowFraction must be in (0, 1], got ${windowFraction}`);
  if (!(Number.isInteger(consumers) && consumers >= 1)) throw new RangeError(`consumers must be a whole number >= 1, got ${consumers}`);

  const burstMs = burstSeconds * 1000;
  let providerRpm: number | undefined;
  let providerTpm: number | undefined;
  let answered = false;
  /** The provider's token window from its last answer that said, and the ceiling 429s put on the window. */
  let learnedWindowTokens: number | undefined;
  let windowCeilingSeconds = Infinity;
  // When each bucket was (or will be) empty: never yet, so both are full.
  const start = now();
  let requestsEmptyAt = -Infinity;
  let tokensEmptyAt = -Infinity;
  let holdUntil = start;
  let multiplier = 1;
  let multiplierAt = start;
  let lastDecreaseAt = -Infinity;
  let consecutiveFinal429s = 0;
  let lastRequestTokens = 0;
  const counters = { requests: 0, tokens: 0, waitedMs: 0, headerHolds: 0, rateLimitHolds: 0, rateLimited: 0, decreases: 0 };

  const budget = () => {
    const rpm = providerRpm === undefined ? configuredRpm : Math.min(configuredRpm, providerRpm);
    const tpm = followProviderTokenLimit
      ? (providerTpm ?? (answered ? configuredTpm : Infinity))
      : providerTpm === undefined
        ? configuredTpm
        : Math.min(configuredTpm, providerTpm);
    return { rpm, tpm };
  };

  /** Tokens the provider's window holds, as far as this pacer knows; Infinity when there is no token budget at all. */
  const windowTokens = (tpm: number): number => {
    // Before the first answer of a followed limit, the assumed budget sizes the assumed window.
    const perMinute = tpm === Infinity ? configuredTpm : tpm;
    const ceiling = (windowCeilingSeconds * perMinute * 1000) / MINUTE_MS;
    const known = learnedWindowTokens ?? (assumedWindowSeconds * perMinute * 1000) / MINUTE_MS;
    return Math.min(known, ceiling);
  };

  /** Tokens this consumer's bucket (and so one request) holds: burstSeconds of its share, at most its part of the window. */
  const bucketTokens = (tpm: number, factor: number): number => {
    const perMinute = tpm === Infinity ? configuredTpm : tpm;
    const share = (burstSeconds * perMinute * factor) / 60 / consumers;
    return Math.min(share, (windowFraction * windowTokens(tpm)) / consumers);
  };

  /** Additive recovery since the last change, then the current multiplier. */
  const currentMultiplier = (time: number): number => {
    if (multiplier < 1 && time > multiplierAt) multiplier = Math.min(1, multiplier + (recoverPerSecond * (time - multiplierAt)) / 1000);
    multiplierAt = Math.max(multiplierAt, time);
    return multiplier;
  };

  /** Milliseconds of this consumer's share that `units` cost at `perMinute` (0 when unlimited). */
  const cost = (units: number, perMinute: number, factor: number): number =>
    perMinute === Infinity ? 0 : (units * MINUTE_MS * consumers) / (perMinute * factor);

  const hold = (until: number, kind: 'headers' | 'rateLimited'): void => {
    if (until <= holdUntil) return;
    holdUntil = until;
    if (kind === 'headers') counters.headerHolds += 1;
    else counters.rateLimitHolds += 1;
  };

  const jittered = (ms: number): number => ms * (1 + jitter * random());

  /** When a bucket emptied at `emptyAt`, holding `capacityMs`, has `costMs` (or is full); its new emptyAt once debited then. */
  const conforming = (emptyAt: number, capacityMs: number, costMs: number) => emptyAt + Math.min(costMs, capacityMs);
  const debited = (emptyAt: number, capacityMs: number, costMs: number, at: number) => Math.max(emptyAt, at - capacityMs) + costMs;

  const pacer: RatePacer = {
    async acquire(tokens = 0) {
      const units = Number.isFinite(tokens) && tokens > 0 ? tokens : 0;
      const time = now();
      const factor = currentMultiplier(time);
      const { rpm, tpm } = budget();
      const requestCost = cost(1, rpm, factor);
      const tokenCost = cost(units, tpm, factor);
      const tokenCapacity = cost(bucketTokens(tpm, factor), tpm, factor);
      const sendAt = Math.max(
        time,
        holdUntil,
        conforming(requestsEmptyAt, burstMs, requestCost),
        conforming(tokensEmptyAt, tokenCapacity, tokenCost),
      );
      requestsEmptyAt = debited(requestsEmptyAt, burstMs, requestCost, sendAt);
      tokensEmptyAt = debited(tokensEmptyAt, tokenCapacity, tokenCost, sendAt);
      counters.requests += 1;
      counters.tokens += units;
      lastRequestTokens = units;
      if (sendAt > time) await sleep(sendAt - time);
      // A hold set while this caller slept (a 429 elsewhere) applies to it too.
      for (let current = now(); holdUntil > current; current = now()) await sleep(holdUntil - current);
      counters.waitedMs += Math.max(0, now() - time);
    },

    requestTokenLimit() {
      const limit = bucketTokens(budget().tpm, currentMultiplier(now()));
      return Number.isFinite(limit) ? Math.max(1, Math.floor(limit)) : Infinity;
    },

    observe(outcome: unknown) {
      answered = true;
      const info = rateLimitOf(outcome);
      if (!info) return;
      const time = now();
      if (positive(info.limitRequests)) providerRpm = info.limitRequests;
      if (positive(info.limitTokens)) providerTpm = info.limitTokens;
      const window = windowOf(info.remainingTokens, info.limitTokens, info.resetTokensMs);
      if (window !== undefined) learnedWindowTokens = window;

      // Remaining lower than one request like ours from every consumer: wait until refilled.
      const headerHold = Math.max(
        refillWait(info.remainingRequests, consumers, info.limitRequests, info.resetRequestsMs),
        refillWait(info.remainingTokens, consumers * lastRequestTokens, info.limitTokens, info.resetTokensMs),
      );
      if (headerHold > 0) hold(time + jittered(headerHold), 'headers');

      const limited = info.rateLimited;
      if (limited && limited.count > 0) {
        counters.rateLimited += limited.count;
        const factor = currentMultiplier(time);
        if (time - lastDecreaseAt >= decreaseCooldownMs) {
          multiplier = Math.max(minMultiplier, factor * decrease);
          multiplierAt = time;
          lastDecreaseAt = time;
          counters.decreases += 1;
          narrowWindow();
        }
        if (limited.final) {
          consecutiveFinal429s += 1;
          const wait =
            limited.retryAfterMs !== undefined && limited.retryAfterMs >= 0
              ? limited.retryAfterMs
              : Math.min(backoffMaxMs, backoffBaseMs * 2 ** (consecutiveFinal429s - 1));
          hold(time + jittered(wait), 'rateLimited');
        } else {
          consecutiveFinal429s = 0;
        }
      } else {
        consecutiveFinal429s = 0;
      }
    },

    snapshot() {
      const { rpm, tpm } = budget();
      return {
        requestsPerMinute: rpm,
        tokensPerMinute: tpm,
        windowTokens: windowTokens(tpm),
        requestTokenLimit: pacer.requestTokenLimit(),
        multiplier: currentMultiplier(now()),
        acquired: { requests: counters.requests, tokens: counters.tokens },
        waitedMs: counters.waitedMs,
        holds: { headers: counters.headerHolds, rateLimited: counters.rateLimitHolds },
        rateLimited: counters.rateLimited,
        decreases: counters.decreases,
      };
    },
  };

  /** A 429 with our bursts within the window says the window is smaller than it seems: assume half of it from now on. */
  function narrowWindow(): void {
    const { tpm } = budget();
    const perMinute = tpm === Infinity ? configuredTpm : tpm;
    if (perMinute === Infinity) return;
    const seconds = (windowTokens(tpm) * MINUTE_MS) / perMinute / 1000;
    windowCeilingSeconds = Math.max(assumedWindowSeconds / 4, seconds / 2);
  }

  return pacer;
}

/**
 * Tokens (or requests) the provider's bucket holds when full: what remains plus what refills
 * until its reset, at its limit per minute; undefined when the headers do not say.
 */
export function windowOf(
  remaining: number | undefined,
  limitPerMinute: number | undefined,
  resetMs: number | undefined,
): number | undefined {
  if (remaining === undefined || resetMs === undefined || !positive(limitPerMinute)) return undefined;
  return remaining + (resetMs * limitPerMinute) / MINUTE_MS;
}

/**
 * Milliseconds until the provider's bucket holds `needed`, from its remaining level, its limit
 * per minute and its reset time; 0 when it holds enough or the headers do not say.
 */
export function refillWait(
  remaining: number | undefined,
  needed: number,
  limitPerMinute: number | undefined,
  resetMs: number | undefined,
): number {
  if (remaining === undefined || !(needed > 0) || remaining >= needed) return 0;
  const byRate = positive(limitPerMinute) ? ((needed - remaining) * MINUTE_MS) / limitPerMinute : Infinity;
  const wait = Math.min(byRate, resetMs ?? Infinity);
  return Number.isFinite(wait) ? Math.max(0, wait) : 0;
}

function positive(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value) && value > 0;
}

function rateLimitOf(outcome: unknown): RateLimitInfo | undefined {
  if (outcome === null || typeof outcome !== 'object') return undefined;
  const info = (outcome as { rateLimit?: unknown }).rateLimit;
  return info !== null && typeof info === 'object' ? (info as RateLimitInfo) : undefined;
}

/**
 * Parses a Go `time.Duration` string as OpenAI's reset headers carry it (`6m0s`, `1.5s`,
 * `120ms`, `1h2m3.5s`, `0s`) into milliseconds; a bare number counts as seconds. Undefined when
 * it is neither.
 */
export function parseGoDuration(value: string | null | undefined): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, μs: 0.001, ns: 0.000001 };
  const part = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * unitMs[match[2]];
    index = part.lastIndex;
  }
  return total;
}

/** Reads the x-ratelimit-* headers (and nothing else) from a header getter. */
export function readRateLimitHeaders(get: (name: string) => string | null | undefined): RateLimitInfo {
  const count = (name: string): number | undefined => {
    const raw = get(name)?.trim();
    if (!raw) return undefined;
    const value = Number(raw);
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  const info: RateLimitInfo = {
    limitRequests: count('x-ratelimit-limit-requests'),
    remainingRequests: count('x-ratelimit-remaining-requests'),
    resetRequestsMs: parseGoDuration(get('x-ratelimit-reset-requests')),
    limitTokens: count('x-ratelimit-limit-tokens'),
    remainingTokens: count('x-ratelimit-remaining-tokens'),
    resetTokensMs: parseGoDuration(get('x-ratelimit-reset-tokens')),
  };
  return Object.fromEntries(Object.entries(info).filter(([, value]) => value !== undefined)) as RateLimitInfo;
}
