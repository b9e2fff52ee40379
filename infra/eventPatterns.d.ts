/** Types of eventPatterns.js (tsconfig has no allowJs); keep in step with its JSDoc. */

/** An EventBridge pattern leaf: an exact JSON value, or `{ prefix }` for strings. */
export type PatternValue = string | number | boolean | null | { prefix: string };

/** An EventBridge event pattern: arrays are leaves (any value matches), objects nest. */
export interface EventPattern {
  [field: string]: PatternValue[] | EventPattern;
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

export const EXECUTION_STATUS_CHANGE: string;
export function localStateMachineArn(name: string): string;
export const EXECUTION_ENDED_BADLY: string[];

export function eventPatternFor(
  consumer: { trigger: EventsTrigger | S3Trigger | StateMachineTrigger },
  eventSource: string,
  stateMachineArns?: Record<string, string>,
): EventPattern | undefined;
