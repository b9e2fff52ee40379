'use strict';
/**
 * The EventBridge pattern of a consumer in infra/wiring.yml, shared by the template compiler
 * (infra/serverless-wiring.js) and the local runtime (local/), so both route alike.
 * Types: eventPatterns.d.ts.
 */

/** Step Functions publishes these to the account's default bus; a machine's execution ending without success. */
const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';
const EXECUTION_ENDED_BADLY = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/** The ARN local mode gives a wired state machine (the template uses the deployed one's). */
function localStateMachineArn(name) {
  return `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`;
}

/**
 * @param {{ trigger: { events?: string[], internal?: boolean, s3?: unknown, stateMachine?: string } }} consumer
 * @param {string} eventSource the `source` our own handlers put on events
 * @param {Record<string, unknown>} [stateMachineArns] ARN (or its CloudFormation reference) of each wired machine; default the local ARN
 * @returns {Record<string, unknown> | undefined} undefined for an S3-triggered consumer (no rule)
 */
function eventPatternFor(consumer, eventSource, stateMachineArns = {}) {
  const { trigger } = consumer;
  if (trigger.stateMachine) {
    const arn = stateMachineArns[trigger.stateMachine] ?? localStateMachineArn(trigger.stateMachine);
    return {
      source: ['aws.states'],
      'detail-type': [EXECUTION_STATUS_CHANGE],
      detail: { status: [...EXECUTION_ENDED_BADLY], stateMachineArn: [arn] },
    };
  }
  if (!trigger.events) return undefined;
  const pattern = { 'detail-type': [...trigger.events] };
  // Internal events are ours alone: a foreign publisher must not be able to inject them.
  if (trigger.internal) pattern.source = [eventSource];
  return pattern;
}

module.exports = { eventPatternFor, localStateMachineArn, EXECUTION_STATUS_CHANGE, EXECUTION_ENDED_BADLY };
