/**
 * The EventBridge pattern of a consumer in infra/wiring.yml, shared by the template compiler
 * (infra/template/) and the local runtime (local/), so both route alike.
 */

/** An EventBridge pattern leaf: an exact JSON value, or `{ prefix }` for strings. */
export type PatternValue = string | number | boolean | null | { prefix: string };

/**
 * An EventBridge event pattern: arrays are leaves (any value matches), objects nest. `Leaf` is
 * wider in the template, where a state machine's ARN is a CloudFormation reference.
 */
export interface EventPattern<Leaf = PatternValue> {
  [field: string]: Leaf[] | EventPattern<Leaf>;
}

export interface EventsTrigger {
  events: string[];
  internal?: boolean;
}

export interface S3Trigger {
  s3: { prefix: string; suffix: string };
}

/** A wired state machine's executions that failed, timed out or were aborted. */
export interface StateMachineTrigger {
  stateMachine: string;
}

/** Step Functions publishes these to the account's default bus; a machine's execution ending without success. */
export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';
export const EXECUTION_ENDED_BADLY = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/** The ARN local mode gives a wired state machine (the template uses the deployed one's). */
export function localStateMachineArn(name: string): string {
  return `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`;
}

type Consumer = { trigger: EventsTrigger | S3Trigger | StateMachineTrigger };

/**
 * @param eventSource the `source` our own handlers put on events
 * @param stateMachineArns ARN (or its CloudFormation reference) of each wired machine; default the local ARN
 * @returns undefined for an S3-triggered consumer (no rule)
 */
export function eventPatternFor(consumer: Consumer, eventSource: string): EventPattern | undefined;
export function eventPatternFor<Arn>(
  consumer: Consumer,
  eventSource: string,
  stateMachineArns: Record<string, Arn>,
): EventPattern<PatternValue | Arn> | undefined;
export function eventPatternFor<Arn>(
  consumer: Consumer,
  eventSource: string,
  stateMachineArns: Record<string, Arn> = {},
): EventPattern<PatternValue | Arn> | undefined {
  const { trigger } = consumer;
  if ('stateMachine' in trigger && trigger.stateMachine) {
    const arn = stateMachineArns[trigger.stateMachine] ?? localStateMachineArn(trigger.stateMachine);
    return {
      source: ['aws.states'],
      'detail-type': [EXECUTION_STATUS_CHANGE],
      detail: { status: [...EXECUTION_ENDED_BADLY], stateMachineArn: [arn] },
    };
  }
  if (!('events' in trigger) || !trigger.events) return undefined;
  const pattern: EventPattern = { 'detail-type': [...trigger.events] };
  // Internal events are ours alone: a foreign publisher must not be able to inject them.
  if (trigger.internal) pattern.source = [eventSource];
  return pattern;
}
