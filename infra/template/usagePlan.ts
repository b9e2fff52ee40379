/**
 * serverless.yml's `provider.apiGateway.usagePlan`: the stage's throttle and quota from its
 * parameters (custom.apiLimits), checked and turned into numbers here, since a `--param` is a
 * string and API Gateway's usage plan takes numbers.
 */
import type { ResolveVariable } from './context';

const QUOTA_PERIODS = ['DAY', 'WEEK', 'MONTH'];

export async function readUsagePlan(resolveVariable: ResolveVariable) {
  const read = (setting: string) => resolveVariable(`self:custom.apiLimits.${setting}`);
  const [rateLimit, burstLimit, quotaLimit, quotaPeriod] = await Promise.all(
    ['rateLimit', 'burstLimit', 'quotaLimit', 'quotaPeriod'].map(read),
  );
  const positive = (param: string, value: unknown, whole = true): number => {
    const number = Number(value);
    if (!(number > 0) || (whole && !Number.isInteger(number)))
      throw new Error(`--param ${param} must be a ${whole ? 'whole ' : ''}number above 0, got "${value}"`);
    return number;
  };
  const period = String(quotaPeriod);
  if (!QUOTA_PERIODS.includes(period))
    throw new Error(`--param apiQuotaPeriod must be one of ${QUOTA_PERIODS.join(', ')}, got "${period}"`);
  return {
    // Requests per second may be fractional; the burst and the quota count whole requests.
    throttle: { rateLimit: positive('apiRateLimit', rateLimit, false), burstLimit: positive('apiBurstLimit', burstLimit) },
    quota: { limit: positive('apiQuotaLimit', quotaLimit), period },
  };
}
