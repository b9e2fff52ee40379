/**
 * The adapters' retry policy on a fake clock: `sleep` moves it instead of waiting, so every test
 * runs at once and asserts the exact waits.
 */
import {
  backoffMs,
  isRetryableStatus,
  isServerError,
  retry,
  retryAfterMs,
  warnBeforeRetry,
  type RetryBudget,
  type RetryNotice,
} from '../../../../shared/adapters/retry';
import { recordingLogger } from '../../../helpers/fakes';

const BUDGET: RetryBudget = { attempts: 5, baseMs: 100, capMs: 500 };

class Transient extends Error {
  constructor(readonly retryAfter?: number) {
    super('transient');
  }
}

/** A fake clock whose `sleep` records each wait and advances time by it. */
function fakeClock(start = Date.parse('2025-06-01T12:00:00Z')) {
  const clock = { now: start, waits: [] as number[] };
  const sleep = async (ms: number): Promise<void> => {
    clock.waits.push(ms);
    clock.now += ms;
  };
  return { clock, sleep };
}

/** An attempt that fails with `failures` in turn, then answers `done`; it records the attempt numbers it is given. */
function scripted(failures: unknown[]) {
  const seen: number[] = [];
  const attempt = async (n: number): Promise<string> => {
    seen.push(n);
    if (n <= failures.length) throw failures[n - 1];
    return 'done';
  };
  return { attempt, seen };
}

const retryTransient = {
  retryable: (error: unknown) => error instanceof Transient,
  retryAfter: (error: unknown) => (error as Transient).retryAfter,
};

describe('retry', () => {
  it('returns the first success, numbering the attempts from 1', async () => {
    const { clock, sleep } = fakeClock();
    const { attempt, seen } = scripted([new Transient(), new Transient()]);

    await expect(retry(attempt, BUDGET, { ...retryTransient, sleep, random: () => 0.5 })).resolves.toBe('done');

    expect(seen).toEqual([1, 2, 3]);
    expect(clock.waits).toHaveLength(2);
  });

  it('backs off exponentially from the base, capped, half fixed and half random', async () => {
    const { clock, sleep } = fakeClock();
    const { attempt } = scripted(Array.from({ length: 4 }, () => new Transient()));

    await retry(attempt, BUDGET, { ...retryTransient, sleep, random: () => 0 });
    expect(clock.waits).toEqual([50, 100, 200, 250]);

    clock.waits.length = 0;
    const again = scripted(Array.from({ length: 4 }, () => new Transient()));
    await retry(again.attempt, BUDGET, { ...retryTransient, sleep, random: () => 0.999999 });
    expect(clock.waits.map(Math.round)).toEqual([100, 200, 400, 500]);
  });

  it('throws the last failure as it is once the attempts are spent', async () => {
    const { clock, sleep } = fakeClock();
    const failures = Array.from({ length: 9 }, () => new Transient());
    const { attempt, seen } = scripted(failures);

    await expect(retry(attempt, BUDGET, { ...retryTransient, sleep })).rejects.toBe(failures[4]);

    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(clock.waits).toHaveLength(4);
  });

  it('throws at once what the predicate does not retry', async () => {
    const { clock, sleep } = fakeClock();
    const fatal = new Error('bad request');
    const { attempt, seen } = scripted([new Transient(), fatal]);

    await expect(retry(attempt, BUDGET, { ...retryTransient, sleep })).rejects.toBe(fatal);

    expect(seen).toEqual([1, 2]);
    expect(clock.waits).toHaveLength(1);
  });

  it('makes one attempt only with a budget of one', async () => {
    const { clock, sleep } = fakeClock();
    const only = new Transient();
    await expect(retry(scripted([only]).attempt, { ...BUDGET, attempts: 1 }, { ...retryTransient, sleep })).rejects.toBe(only);
    expect(clock.waits).toEqual([]);
  });

  it('waits what the provider asked instead of the backoff, without jitter, cut to the cap', async () => {
    const { clock, sleep } = fakeClock();
    const { attempt } = scripted([new Transient(3000), new Transient(0), new Transient(), new Transient(120_000)]);

    await retry(attempt, BUDGET, { ...retryTransient, sleep, random: () => 0 });

    expect(clock.waits).toEqual([3000, 0, 200, 60_000]);
  });

  it('cuts a retry-after to the cap the caller sets', async () => {
    const { clock, sleep } = fakeClock();
    await retry(scripted([new Transient(10_000)]).attempt, BUDGET, { ...retryTransient, maxRetryAfterMs: 2000, sleep });
    expect(clock.waits).toEqual([2000]);
  });

  it('tells onRetry of each failure it sends again, with the wait to come, and not of the last one', async () => {
    const { clock, sleep } = fakeClock();
    const failures = [new Transient(3000), new Transient(), new Transient(), new Transient(), new Transient()];
    const notices: RetryNotice[] = [];

    await expect(
      retry(scripted(failures).attempt, BUDGET, { ...retryTransient, sleep, random: () => 0, onRetry: (n) => notices.push(n) }),
    ).rejects.toBe(failures[4]);

    expect(notices).toEqual([1, 2, 3, 4].map((attempt, i) => ({ attempt, attempts: 5, delayMs: clock.waits[i], error: failures[i] })));
    expect(clock.waits).toEqual([3000, 100, 200, 250]);
  });

  it('tells onRetry nothing of a failure it does not retry', async () => {
    const onRetry = jest.fn();
    await expect(retry(scripted([new Error('no')]).attempt, BUDGET, { ...retryTransient, onRetry })).rejects.toThrow('no');
    expect(onRetry).not.toHaveBeenCalled();
  });
});

describe('warnBeforeRetry', () => {
  it('writes one WARN line naming the operation, the attempt, the wait and the message, without the error object (so no stack)', () => {
    const logger = recordingLogger();
    const warn = warnBeforeRetry(logger, 'Pinecone upsert');

    warn?.({ attempt: 2, attempts: 6, delayMs: 812.4, error: new Error('HTTP 429') });
    warn?.({ attempt: 3, attempts: 6, error: 'reset' });

    expect(logger.entries).toEqual([
      {
        level: 'warn',
        message: 'Pinecone upsert failed; retrying',
        extra: [{ attempt: 2, attempts: 6, retry_in_ms: 812, reason: 'HTTP 429' }],
      },
      { level: 'warn', message: 'Pinecone upsert failed; retrying', extra: [{ attempt: 3, attempts: 6, reason: 'reset' }] },
    ]);
  });

  it('is undefined without a logger, so the policy is told nothing', () => {
    expect(warnBeforeRetry(undefined, 'anything')).toBeUndefined();
  });
});

describe('backoffMs', () => {
  it('doubles from the base up to the cap, and jitters within its upper half', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffMs(n, BUDGET, () => 0))).toEqual([50, 100, 200, 250, 250, 250]);
    expect(backoffMs(2, BUDGET, () => 0.5)).toBe(150);
  });
});

describe('retryAfterMs', () => {
  const headers = (values: Record<string, string>) => new Headers(values);
  const now = Date.parse('2025-06-01T12:00:00Z');

  it('reads retry-after-ms first, then retry-after', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), now)).toBe(1500);
    expect(retryAfterMs(headers({ 'retry-after-ms': 'soon', 'retry-after': '9' }), now)).toBe(9000);
    expect(retryAfterMs(headers({ 'retry-after-ms': '-5', 'retry-after': '9' }), now)).toBe(9000);
  });

  it('takes retry-after in seconds, fractions included, never below zero', () => {
    expect(retryAfterMs(headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(retryAfterMs(headers({ 'retry-after': '0.25' }), now)).toBe(250);
    expect(retryAfterMs(headers({ 'retry-after': '-3' }), now)).toBe(0);
  });

  it('takes retry-after as an HTTP date, against the clock it is given', () => {
    expect(retryAfterMs(headers({ 'retry-after': 'Sun, 01 Jun 2025 12:00:30 GMT' }), now)).toBe(30_000);
    expect(retryAfterMs(headers({ 'retry-after': 'Sun, 01 Jun 2025 11:59:00 GMT' }), now)).toBe(0);
  });

  it('is undefined when no wait is named or it cannot be read', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs(headers({}), now)).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': 'whenever' }), now)).toBeUndefined();
  });

  it('feeds the policy: a dated retry-after read on the fake clock is waited exactly', async () => {
    const { clock, sleep } = fakeClock(now);
    const dated = headers({ 'retry-after': 'Sun, 01 Jun 2025 12:00:05 GMT' });
    const { attempt } = scripted([new Transient(retryAfterMs(dated, clock.now))]);

    await retry(attempt, BUDGET, { ...retryTransient, sleep });

    expect(clock.waits).toEqual([5000]);
    expect(clock.now).toBe(Date.parse('2025-06-01T12:00:05Z'));
  });
});

describe('status helpers', () => {
  it('isServerError is 5xx only', () => {
    expect([undefined, 400, 429, 499, 500, 503, 599].map(isServerError)).toEqual([false, false, false, false, true, true, true]);
  });

  it("isRetryableStatus is openai-node's set: 408, 409, 429 and 5xx", () => {
    expect([undefined, 400, 401, 404, 408, 409, 422, 429, 500, 502].map(isRetryableStatus)).toEqual([
      false,
      false,
      false,
      false,
      true,
      true,
      false,
      true,
      true,
      true,
    ]);
  });
});
