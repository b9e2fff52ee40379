/**
 * The pacing arithmetic on a virtual clock: nothing here waits for real time.
 */
import {
  createRequestPacer,
  parseGoDuration,
  readRateLimitHeaders,
  refillWait,
  type PacerOptions,
  type RatePacer,
} from '../../../../shared/domain/pacer';

/** A discrete-event clock: sleep() resolves when run() reaches its time, in time order. */
function virtualClock() {
  let time = 0;
  let sequence = 0;
  const timers: { at: number; sequence: number; resolve: () => void }[] = [];
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    now: () => time,
    sleep: (ms: number) => new Promise<void>((resolve) => timers.push({ at: time + Math.max(0, ms), sequence: sequence++, resolve })),
    /** Runs timers (and what they trigger) until none is left before `until`. */
    async run(until = Infinity) {
      await flush();
      while (timers.length > 0) {
        timers.sort((a, b) => a.at - b.at || a.sequence - b.sequence);
        if (timers[0].at > until) break;
        const timer = timers.shift()!;
        time = Math.max(time, timer.at);
        timer.resolve();
        await flush();
      }
      if (until !== Infinity) time = Math.max(time, until);
    },
  };
}

type Clock = ReturnType<typeof virtualClock>;

/** A pacer on the clock; its provider's window assumed a minute (as OpenAI's headers show one), so that its own buckets bind. */
function pacerOn(clock: Clock, options: Partial<PacerOptions>): RatePacer {
  return createRequestPacer({ consumers: 1, assumedWindowSeconds: 60, now: clock.now, sleep: clock.sleep, random: () => 0, ...options });
}

/** A pacer whose buckets have filled (it has been idle for its burst). */
async function idlePacerOn(clock: Clock, options: Partial<PacerOptions>): Promise<RatePacer> {
  const pacer = pacerOn(clock, options);
  await clock.run(clock.now() + (options.burstSeconds ?? 2) * 1000);
  return pacer;
}

/** Acquires one after another and returns when each request was let go, from the call. */
async function sendTimes(clock: Clock, pacer: RatePacer, tokens: number[]): Promise<number[]> {
  const times: number[] = [];
  const start = clock.now();
  const done = (async () => {
    for (const count of tokens) {
      await pacer.acquire(count);
      times.push(clock.now() - start);
    }
  })();
  await clock.run();
  await done;
  return times;
}

describe('createRequestPacer', () => {
  describe('requests', () => {
    it('starts full: lets a bucket of burstSeconds go at once, then spaces requests at the rate', async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, { requestsPerMinute: 600, burstSeconds: 2 });
      const times = await sendTimes(clock, pacer, Array(24).fill(0));
      expect(times.slice(0, 20)).toEqual(Array(20).fill(0));
      expect(times.slice(20)).toEqual([100, 200, 300, 400]);
    });

    it('fills again while idle, never beyond burstSeconds', async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, { requestsPerMinute: 600, burstSeconds: 2 });
      await sendTimes(clock, pacer, Array(20).fill(0));
      await clock.run(clock.now() + 1000);
      // 1 s idle: 10 requests at once; 10 s idle: 20, not 100.
      expect((await sendTimes(clock, pacer, Array(11).fill(0))).slice(9)).toEqual([0, 100]);
      await clock.run(clock.now() + 10_000);
      expect((await sendTimes(clock, pacer, Array(21).fill(0))).slice(19)).toEqual([0, 100]);
    });

    it("keeps to its consumer's share: 1/consumers of the budget", async () => {
      const clock = virtualClock();
      const pacer = await idlePacerOn(clock, { requestsPerMinute: 600, consumers: 5, burstSeconds: 1 });
      const times = await sendTimes(clock, pacer, Array(5).fill(0));
      expect(times).toEqual([0, 0, 500, 1000, 1500]);
    });

    it('maps the older requests-per-second setting to rpm = rps × 60', async () => {
      const clock = virtualClock();
      const pacer = await idlePacerOn(clock, { requestsPerSecond: 20, consumers: 5, burstSeconds: 1 });
      expect(pacer.snapshot().requestsPerMinute).toBe(1200);
      const times = await sendTimes(clock, pacer, Array(7).fill(0));
      expect(times).toEqual([0, 0, 0, 0, 250, 500, 750]);
    });

    it('never waits without a budget', async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, {});
      expect(await sendTimes(clock, pacer, Array(1000).fill(100_000))).toEqual(Array(1000).fill(0));
      expect(pacer.snapshot().waitedMs).toBe(0);
    });

    it('serves concurrent callers of one pacer in order', async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, { requestsPerMinute: 60, burstSeconds: 1 });
      const order: string[] = [];
      const callers = ['a', 'b', 'c'].map(async (name) => {
        await pacer.acquire();
        order.push(`${name}@${clock.now()}`);
      });
      await clock.run();
      await Promise.all(callers);
      expect(order).toEqual(['a@0', 'b@1000', 'c@2000']);
    });
  });

  describe('tokens', () => {
    it('waits until the token bucket holds the request', async () => {
      const clock = virtualClock();
      // 1000 tokens/s, holding 2000.
      const pacer = await idlePacerOn(clock, { tokensPerMinute: 60_000, burstSeconds: 2 });
      expect(await sendTimes(clock, pacer, [1500, 1500, 1000])).toEqual([0, 1000, 2000]);
    });

    it('sends a request bigger than the burst once the bucket is full, then pays the debt before the next', async () => {
      const clock = virtualClock();
      const pacer = await idlePacerOn(clock, { tokensPerMinute: 60_000, burstSeconds: 2 });
      // 5000 from a full 2000 leaves 3000 owed: the next request (1000) waits 4 s; the next big one
      // waits for a full bucket again (2 s).
      expect(await sendTimes(clock, pacer, [5000, 1000, 5000])).toEqual([0, 4000, 6000]);
    });

    it('waits for the slower of the two buckets', async () => {
      const clock = virtualClock();
      const pacer = await idlePacerOn(clock, { requestsPerMinute: 60, tokensPerMinute: 6000, burstSeconds: 1 });
      // Requests: 1/s, 1 held. Tokens: 100/s, 100 held; the 300 leaves 200 owed at 2 s, so 10 more
      // come at 2 + 2 + 0.1 s.
      expect(await sendTimes(clock, pacer, [10, 10, 300, 10])).toEqual([0, 1000, 2000, 4100]);
    });

    it('keeps to rate × time + burst + one request over a long run, and uses the whole rate when busy', async () => {
      const clock = virtualClock();
      const tpm = 1_000_000;
      const pacer = await idlePacerOn(clock, { tokensPerMinute: tpm, requestsPerMinute: 3000, burstSeconds: 2 });
      let seed = 7;
      const sizes = Array.from({ length: 400 }, () => {
        seed = (seed * 48271) % 2147483647;
        return 1000 + (seed % 60_000);
      });
      const times = await sendTimes(clock, pacer, sizes);
      const perMs = tpm / 60_000;
      const burst = 2000 * perMs;
      let sent = 0;
      sizes.forEach((size, i) => {
        sent += size;
        expect(sent).toBeLessThanOrEqual(perMs * times[i] + burst + Math.max(...sizes) + 1e-6);
      });
      // Work-conserving: the last request left as soon as the bucket held it.
      const last = sizes[sizes.length - 1];
      expect(times[times.length - 1]).toBeLessThanOrEqual((sent - last) / perMs - 2000 + Math.min(last / perMs, 2000) + 1);
    });
  });

  describe('consumers without shared memory', () => {
    it('five pacers at 1/5 each keep the whole pipeline within the budget in every minute', async () => {
      const clock = virtualClock();
      const tpm = 600_000;
      const sends: { at: number; tokens: number }[] = [];
      const workers = Array.from({ length: 5 }, async (_, worker) => {
        const pacer = pacerOn(clock, { tokensPerMinute: tpm, requestsPerMinute: 3000, consumers: 5, burstSeconds: 2 });
        for (let i = 0; i < 40; i++) {
          const tokens = 5000 + ((worker * 7919 + i * 104729) % 40_000);
          await pacer.acquire(tokens);
          sends.push({ at: clock.now(), tokens });
          await clock.sleep(150 + ((i * 37) % 200)); // latency and the rest of the chunk's work
        }
      });
      await clock.run();
      await Promise.all(workers);
      const end = Math.max(...sends.map((send) => send.at));
      const maxRequest = Math.max(...sends.map((send) => send.tokens));
      for (let start = 0; start + 60_000 <= end; start += 1000) {
        const inWindow = sends.filter((send) => send.at >= start && send.at < start + 60_000).reduce((sum, send) => sum + send.tokens, 0);
        expect(inWindow).toBeLessThanOrEqual(tpm + 5 * ((tpm / 5 / 60) * 2 + maxRequest));
      }
      const total = sends.reduce((sum, send) => sum + send.tokens, 0);
      // And together they use the budget: at least 95% of it over the run.
      expect(total / (end / 60_000)).toBeGreaterThan(0.95 * tpm);
    });
  });

  describe('observe: headers', () => {
    it("lowers the budget to the provider's limit, never raises a configured one", async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, { requestsPerMinute: 3000, tokensPerMinute: 1_000_000 });
      pacer.observe({ rateLimit: { limitRequests: 500, limitTokens: 2_000_000 } });
      expect(pacer.snapshot()).toMatchObject({ requestsPerMinute: 500, tokensPerMinute: 1_000_000 });
    });

    it("follows the provider's token limit, up or down, when ours is only assumed", async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, { tokensPerMinute: 1_000_000, followProviderTokenLimit: true });
      // Not paced on tokens before the first answer says what the budget is.
      expect(await sendTimes(clock, pacer, [500_000, 500_000])).toEqual([0, 0]);
      pacer.observe({ rateLimit: { limitTokens: 5_000_000 } });
      expect(pacer.snapshot().tokensPerMinute).toBe(5_000_000);
      pacer.observe({ rateLimit: { limitTokens: 350_000 } });
      expect(pacer.snapshot().tokensPerMinute).toBe(350_000);
    });

    it('keeps the assumed token budget when the first answer names no limit', () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, { tokensPerMinute: 1_000_000, followProviderTokenLimit: true });
      expect(pacer.snapshot().tokensPerMinute).toBe(Infinity);
      pacer.observe({ vectors: [[1]], tokens: 3 });
      expect(pacer.snapshot().tokensPerMinute).toBe(1_000_000);
    });

    it('holds when the remaining tokens would not cover one request like ours from every consumer', async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, { tokensPerMinute: 60_000_000, consumers: 5 });
      await sendTimes(clock, pacer, [2000]);
      // Needed 5 × 2000; 1000 left; refills 1000 per second → 9 s, but full again in 5 s.
      pacer.observe({ rateLimit: { limitTokens: 60_000, remainingTokens: 1000, resetTokensMs: 5000 } });
      const [next] = await sendTimes(clock, pacer, [10]);
      expect(next).toBe(5000);
      expect(pacer.snapshot().holds.headers).toBe(1);
    });

    it('holds for the refill of the difference when it comes before the reset, jittered', async () => {
      const clock = virtualClock();
      const pacer = createRequestPacer({
        consumers: 2,
        tokensPerMinute: 60_000_000,
        now: clock.now,
        sleep: clock.sleep,
        random: () => 0.5,
        jitter: 0.5,
      });
      await sendTimes(clock, pacer, [1000]);
      // Needed 2 × 1000, 1500 left, 6000 per minute → 5 s; × (1 + 0.5 × 0.5).
      pacer.observe({ rateLimit: { limitTokens: 6000, remainingTokens: 1500, resetTokensMs: 45_000 } });
      const [next] = await sendTimes(clock, pacer, [1]);
      expect(next).toBe(6250);
    });

    it('holds on too few remaining requests as well, and not at all when the provider has enough', async () => {
      const clock = virtualClock();
      const pacer = await idlePacerOn(clock, { consumers: 5 });
      pacer.observe({
        rateLimit: { limitRequests: 600, remainingRequests: 100, resetRequestsMs: 50_000, limitTokens: 1000, remainingTokens: 1000 },
      });
      expect(await sendTimes(clock, pacer, [0])).toEqual([0]);
      pacer.observe({ rateLimit: { limitRequests: 600, remainingRequests: 2, resetRequestsMs: 50_000 } });
      // 3 requests short at 10 per second.
      expect(await sendTimes(clock, pacer, [0])).toEqual([300]);
    });
  });

  describe("the provider's window", () => {
    it('sizes bursts and requests to windowFraction of 1/consumers of the window assumed before any answer', async () => {
      const clock = virtualClock();
      // 600,000 TPM = 10,000 tokens/s; a 1 s window holds 10,000; half of it over 5 consumers: 1000 each.
      const pacer = createRequestPacer({ consumers: 5, tokensPerMinute: 600_000, now: clock.now, sleep: clock.sleep });
      expect(pacer.requestTokenLimit()).toBe(1000);
      // The bucket holds 1000 (full at first); the share refills 2000 tokens/s, so a second request waits 0.5 s.
      expect(await sendTimes(clock, pacer, [1000, 1000])).toEqual([0, 500]);
    });

    it("learns the window from the headers: remaining plus what refills until the reset, at the provider's limit", async () => {
      const clock = virtualClock();
      const pacer = createRequestPacer({ consumers: 5, tokensPerMinute: 1_000_000, now: clock.now, sleep: clock.sleep });
      // A minute's bucket: 900,000 left, full again in 6 s at 1,000,000 per minute.
      pacer.observe({ rateLimit: { limitTokens: 1_000_000, remainingTokens: 900_000, resetTokensMs: 6000 } });
      expect(pacer.snapshot().windowTokens).toBe(1_000_000);
      // Its fifth of half of it is 100,000: the consumer's own bucket, 2 s of its share, binds.
      expect(pacer.requestTokenLimit()).toBe(6666);
      // A 2 s bucket: 20,000 left, full again in 0.8 s.
      pacer.observe({ rateLimit: { limitTokens: 1_000_000, remainingTokens: 20_000, resetTokensMs: 800 } });
      expect(pacer.snapshot().windowTokens).toBeCloseTo(33_333, 0);
      expect(pacer.requestTokenLimit()).toBe(3333);
    });

    it('caps its own bucket by the window, never by more than burstSeconds of the share', async () => {
      const clock = virtualClock();
      const pacer = createRequestPacer({ consumers: 1, tokensPerMinute: 60_000, burstSeconds: 2, now: clock.now, sleep: clock.sleep });
      // A minute's window: the 2 s bucket binds (1000 tokens/s, 2000 held); idle for 10 s, it holds 2000, not more.
      pacer.observe({ rateLimit: { limitTokens: 60_000, remainingTokens: 60_000, resetTokensMs: 0 } });
      await clock.run(10_000);
      expect(await sendTimes(clock, pacer, [2000, 2000])).toEqual([0, 2000]);
    });

    it('lets no more go at once when a larger window is learned than has refilled since the bucket was empty', async () => {
      const clock = virtualClock();
      const pacer = createRequestPacer({ consumers: 1, tokensPerMinute: 60_000, now: clock.now, sleep: clock.sleep });
      // Assumed 1 s window: half of 1000 tokens. The first 500 go at once and empty the bucket.
      expect(await sendTimes(clock, pacer, [500])).toEqual([0]);
      pacer.observe({ rateLimit: { limitTokens: 60_000, remainingTokens: 60_000, resetTokensMs: 0 } });
      // Now the bucket may hold 2000, but only what refills from then on is in it: 1500 wait 1.5 s.
      expect(await sendTimes(clock, pacer, [1500])).toEqual([1500]);
    });

    it('halves the window it assumes on a 429 (once per cooldown), down to a quarter of the assumed window', () => {
      const clock = virtualClock();
      const pacer = createRequestPacer({
        consumers: 1,
        tokensPerMinute: 600_000,
        decreaseCooldownMs: 0,
        now: clock.now,
        sleep: clock.sleep,
      });
      pacer.observe({ rateLimit: { limitTokens: 600_000, remainingTokens: 0, resetTokensMs: 2000 } });
      expect(pacer.snapshot().windowTokens).toBe(20_000);
      const windows: number[] = [];
      for (let i = 0; i < 4; i++) {
        pacer.observe({ rateLimit: { limitTokens: 600_000, remainingTokens: 0, resetTokensMs: 2000, rateLimited: { count: 1 } } });
        windows.push(pacer.snapshot().windowTokens);
      }
      // 2 s → 1 s → 0.5 s → 0.25 s (a quarter of the assumed 1 s), then no lower, whatever the headers say.
      expect(windows).toEqual([10_000, 5000, 2500, 2500]);
    });

    it('holds (remaining below one request from every consumer) only when the budget is spent elsewhere', async () => {
      const clock = virtualClock();
      const pacer = createRequestPacer({ consumers: 5, tokensPerMinute: 600_000, now: clock.now, sleep: clock.sleep, random: () => 0 });
      // Window 20,000 tokens: each consumer's bucket holds at most 2000; idle, it is full.
      pacer.observe({ rateLimit: { limitTokens: 600_000, remainingTokens: 20_000, resetTokensMs: 0 } });
      await clock.run(5000);
      expect(await sendTimes(clock, pacer, [1000])).toEqual([0]);
      // Five requests like ours fit in what remains: the next goes from the bucket at once.
      pacer.observe({ rateLimit: { limitTokens: 600_000, remainingTokens: 5000, resetTokensMs: 1500 } });
      expect(await sendTimes(clock, pacer, [500])).toEqual([0]);
      // Someone else spends: 1500 left where five of our 500 need 2500; 0.1 s to refill the difference.
      pacer.observe({ rateLimit: { limitTokens: 600_000, remainingTokens: 1500, resetTokensMs: 1850 } });
      expect(await sendTimes(clock, pacer, [500])).toEqual([100]);
      expect(pacer.snapshot().holds.headers).toBe(1);
    });
  });

  describe('five separate pacers against a provider window of 1 s, 2 s and a minute', () => {
    /**
     * The provider as the OpenAI simulator keeps its budget: a token bucket holding `windowSeconds`
     * of the TPM, full at first, answering 429 with the wait when a request does not fit, and the
     * x-ratelimit-* headers with every answer. Each consumer takes 250-record chunks of ~60-token
     * records from one queue, sizes its requests to the pacer's limit, and sends them one at a
     * time as the embedder does; the "client" retries a 429 after its retry-after, as openai-node
     * does, and reports it with the answer.
     */
    async function run(windowSeconds: number) {
      const clock = virtualClock();
      const tpm = 1_000_000;
      const perMs = tpm / 60_000;
      const capacity = perMs * windowSeconds * 1000;
      let level = capacity;
      let levelAt = 0;
      const refill = () => {
        level = Math.min(capacity, level + (clock.now() - levelAt) * perMs);
        levelAt = clock.now();
      };
      const headers = () => {
        refill();
        return { limitTokens: tpm, remainingTokens: Math.floor(level), resetTokensMs: (capacity - level) / perMs };
      };
      const admitted: { at: number; tokens: number }[] = [];
      let attempts = 0;
      let rateLimited = 0;
      let seed = 11;
      const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
      const chunks = Array.from({ length: 160 }, () => Array.from({ length: 250 }, () => 10 + Math.floor(-Math.log(1 - next()) * 50)));
      let queueEmptiedAt = Infinity;

      const send = async (tokens: number) => {
        let met = 0;
        for (;;) {
          await clock.sleep(5 + next() * 45); // to the provider: network, upload, parsing
          attempts += 1;
          refill();
          if (tokens <= level) {
            level -= tokens;
            admitted.push({ at: clock.now(), tokens });
            await clock.sleep(100 + 200 * Math.min(1, tokens / 100_000));
            return { rateLimit: { ...headers(), ...(met ? { rateLimited: { count: met } } : {}) } };
          }
          met += 1;
          rateLimited += 1;
          // Too large for the window ever to admit, or the client's 6 retries spent: the request fails.
          if (tokens > capacity || met > 6) return { rateLimit: { ...headers(), rateLimited: { count: met, final: true } } };
          await clock.sleep((tokens - level) / perMs);
        }
      };
      const consumers = Array.from({ length: 5 }, async () => {
        const pacer = createRequestPacer({
          consumers: 5,
          tokensPerMinute: tpm,
          requestsPerMinute: 3000,
          now: clock.now,
          sleep: clock.sleep,
        });
        for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
          if (chunks.length === 0) queueEmptiedAt = Math.min(queueEmptiedAt, clock.now());
          await clock.sleep(30); // reading the chunk, its fingerprints
          for (let i = 0; i < chunk.length;) {
            const limit = pacer.requestTokenLimit();
            let tokens = chunk[i++];
            while (i < chunk.length && tokens + chunk[i] <= limit) tokens += chunk[i++];
            await pacer.acquire(tokens);
            pacer.observe(await send(tokens));
            await clock.sleep(60); // upserting the batch, noting its fingerprints
          }
        }
      });
      await clock.run();
      await Promise.all(consumers);
      const utilisation = (from: number, to: number) =>
        admitted.filter(({ at }) => at >= from && at < to).reduce((sum, { tokens }) => sum + tokens, 0) / ((to - from) * perMs);
      return {
        firstMinute: utilisation(0, 60_000),
        whileBusy: utilisation(0, queueEmptiedAt),
        busySeconds: queueEmptiedAt / 1000,
        rateLimitedShare: rateLimited / attempts,
        attempts,
      };
    }

    it.each([1, 2, 60])(
      'a %d s window: 95-100%% of the budget from the first minute on, ≤ 1%% of requests answered 429',
      async (seconds) => {
        const result = await run(seconds);
        expect(result.busySeconds).toBeGreaterThan(120);
        expect(result.firstMinute).toBeGreaterThanOrEqual(0.95);
        // Requests no bigger than the consumers' buckets: the first minute spends no more than its budget and those buckets.
        expect(result.firstMinute).toBeLessThanOrEqual(1 + 2 / 60);
        expect(result.whileBusy).toBeGreaterThanOrEqual(0.95);
        expect(result.whileBusy).toBeLessThanOrEqual(1.02);
        expect(result.rateLimitedShare).toBeLessThanOrEqual(0.01);
      },
    );
  });

  describe('observe: 429s', () => {
    it('cuts the rate on a 429 the client retried, once per cooldown, and recovers it slowly', async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, {
        requestsPerMinute: 600,
        burstSeconds: 0.1,
        decrease: 0.5,
        decreaseCooldownMs: 2000,
        recoverPerSecond: 0.1,
      });
      pacer.observe({ rateLimit: { rateLimited: { count: 3, retryAfterMs: 200 } } });
      pacer.observe({ rateLimit: { rateLimited: { count: 1 } } });
      expect(pacer.snapshot()).toMatchObject({ multiplier: 0.5, rateLimited: 4, decreases: 1 });
      // Half of 10/s: 200 ms apart (a little less as the rate recovers); no hold, the client already waited.
      const times = await sendTimes(clock, pacer, [0, 0, 0]);
      expect(times[0]).toBe(0);
      for (const gap of [times[1] - times[0], times[2] - times[1]]) {
        expect(gap).toBeGreaterThan(190);
        expect(gap).toBeLessThanOrEqual(200);
      }
      await clock.run(2400);
      expect(pacer.snapshot().multiplier).toBeCloseTo(0.74);
      await clock.run(10_000);
      expect(pacer.snapshot().multiplier).toBe(1);
    });

    it('never cuts below the floor', () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, {
        requestsPerMinute: 600,
        decrease: 0.5,
        minMultiplier: 0.25,
        decreaseCooldownMs: 0,
        recoverPerSecond: 0,
      });
      for (let i = 0; i < 10; i++) pacer.observe({ rateLimit: { rateLimited: { count: 1 } } });
      expect(pacer.snapshot().multiplier).toBe(0.25);
    });

    it('holds for the retry-after of a 429 that ended the request, jittered', async () => {
      const clock = virtualClock();
      const pacer = createRequestPacer({ consumers: 1, now: clock.now, sleep: clock.sleep, random: () => 0.5, jitter: 0.5 });
      pacer.observe({ status: 429, rateLimit: { rateLimited: { count: 3, retryAfterMs: 4000, final: true } } });
      expect(await sendTimes(clock, pacer, [10])).toEqual([5000]);
      expect(pacer.snapshot().holds.rateLimited).toBe(1);
    });

    it('backs off exponentially, capped, when final 429s name no retry-after, and starts over after a success', async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, { backoffBaseMs: 1000, backoffMaxMs: 5000 });
      const holds: number[] = [];
      for (let i = 0; i < 5; i++) {
        const start = clock.now();
        pacer.observe({ rateLimit: { rateLimited: { count: 1, final: true } } });
        await sendTimes(clock, pacer, [0]);
        holds.push(clock.now() - start);
      }
      expect(holds).toEqual([1000, 2000, 4000, 5000, 5000]);
      pacer.observe({ rateLimit: { remainingTokens: 10 } });
      const start = clock.now();
      pacer.observe({ rateLimit: { rateLimited: { count: 1, final: true } } });
      await sendTimes(clock, pacer, [0]);
      expect(clock.now() - start).toBe(1000);
    });

    it('applies a hold to callers already waiting', async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, { requestsPerMinute: 60, burstSeconds: 1 });
      await sendTimes(clock, pacer, [0]); // at once; the next may go at 1 s
      const waiting = pacer.acquire().then(() => clock.now());
      await clock.run(500);
      pacer.observe({ rateLimit: { rateLimited: { count: 1, retryAfterMs: 3000, final: true } } });
      await clock.run();
      expect(await waiting).toBe(3500);
    });

    it('ignores outcomes that say nothing about the budget', async () => {
      const clock = virtualClock();
      const pacer = pacerOn(clock, { requestsPerMinute: 600 });
      for (const outcome of [undefined, null, 'text', new Error('boom'), { vectors: [], tokens: 3 }, { rateLimit: null }])
        pacer.observe(outcome);
      expect(pacer.snapshot()).toMatchObject({ multiplier: 1, holds: { headers: 0, rateLimited: 0 }, rateLimited: 0 });
    });
  });

  it('refuses a budget that is not positive and a consumer count that is not a whole number', () => {
    expect(() => createRequestPacer({ consumers: 1, requestsPerMinute: 0 })).toThrow(RangeError);
    expect(() => createRequestPacer({ consumers: 1, tokensPerMinute: -5 })).toThrow(RangeError);
    expect(() => createRequestPacer({ consumers: 0 })).toThrow(RangeError);
    expect(() => createRequestPacer({ consumers: 2.5 })).toThrow(RangeError);
  });
});

describe('refillWait', () => {
  it('is the time to refill the difference at the limit per minute, at most the reset', () => {
    expect(refillWait(1000, 4000, 60_000, 10_000)).toBe(3000);
    expect(refillWait(1000, 4000, 60_000, 2000)).toBe(2000);
    expect(refillWait(5000, 4000, 60_000, 2000)).toBe(0);
    expect(refillWait(undefined, 4000, 60_000, 2000)).toBe(0);
    expect(refillWait(0, 10, undefined, undefined)).toBe(0);
    expect(refillWait(0, 10, undefined, 700)).toBe(700);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['6m0s', 360_000],
    ['1.5s', 1500],
    ['120ms', 120],
    ['1h2m3.5s', 3_723_500],
    ['0s', 0],
    ['17.412s', 17_412],
    ['250us', 0.25],
    ['3', 3000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each(['', 'soon', '5 s', '1x', '-1s'])('%p is not a duration', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('readRateLimitHeaders', () => {
  it("reads OpenAI's x-ratelimit-* headers, resets in milliseconds", () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '3000',
      'x-ratelimit-remaining-requests': '2999',
      'x-ratelimit-reset-requests': '20ms',
      'x-ratelimit-limit-tokens': '1000000',
      'x-ratelimit-remaining-tokens': '999512',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    expect(readRateLimitHeaders((name) => headers.get(name))).toEqual({
      limitRequests: 3000,
      remainingRequests: 2999,
      resetRequestsMs: 20,
      limitTokens: 1_000_000,
      remainingTokens: 999_512,
      resetTokensMs: 360_000,
    });
  });

  it('leaves out what is missing or unreadable', () => {
    const headers = new Headers({ 'x-ratelimit-limit-tokens': 'lots', 'x-ratelimit-remaining-tokens': '12' });
    expect(readRateLimitHeaders((name) => headers.get(name))).toEqual({ remainingTokens: 12 });
  });
});
