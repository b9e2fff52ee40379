'use strict';
/**
 * The EventBridge pattern of a consumer in infra/wiring.yml, shared by the template compiler
 * (infra/serverless-wiring.js) and the local runtime (local/), so both route alike.
 * Types: eventPatterns.d.ts.
 */

/**
 * @param {{ trigger: { events?: string[], internal?: boolean, s3?: unknown } }} consumer
 * @param {string} eventSource the `source` our own handlers put on events
 * @returns {Record<string, unknown[]> | undefined} undefined for an S3-triggered consumer (no rule)
 */
function eventPatternFor(consumer, eventSource) {
  const { trigger } = consumer;
  if (!trigger.events) return undefined;
  const pattern = { 'detail-type': [...trigger.events] };
  // Internal events are ours alone: a foreign publisher must not be able to inject them.
  if (trigger.internal) pattern.source = [eventSource];
  return pattern;
}

module.exports = { eventPatternFor };
