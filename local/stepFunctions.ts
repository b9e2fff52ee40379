/**
 * Local mode's Step Functions: runs the deployed definition file (infra/state-machine.asl.json)
 * with aws-local-stepfunctions, each Task state mapped to the handler module of the task function
 * its Resource names (`${PlanSegmentFunctionArn}` → tasks.planSegment), called with a Lambda-like
 * context whose remaining time counts down from the task's wired timeout. An execution that ends
 * badly (failed, timed out, aborted) publishes "Step Functions Execution Status Change" on the bus
 * as AWS does, so the wired status-change consumer sees it exactly as on AWS. With a journal,
 * running executions outlive the process: a restart resumes each from the input its start state
 * was last entered with (see executionJournal.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ExecutionAbortedError,
  ExecutionTimeoutError,
  StateMachine,
  type RunOptions,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';

/** What an execution and its tasks take and give: JSON (the library's own JSONValue, which it does not export). */
type JsonInput = Parameters<StateMachine['run']>[0];
import { EXECUTION_STATUS_CHANGE, localStateMachineArn } from '../infra/eventPatterns';
import type { EventPublisher } from '../shared/ports';
import { executionNameFor } from '../shared/domain/plan';
import type { LargeCsvPlanner, LargeCsvPlanState, Logger } from '../shared/ports';
import { taskOfArnVariable, type StateMachineWiring } from '../infra/wiring';
import type { ExecutionJournal } from './executionJournal';

export type LocalTaskHandler = (input: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

export interface LocalStateMachineOptions {
  wiring: StateMachineWiring;
  repoRoot: string;
  /** Handler of each wired task, by task name. */
  handlers: Record<string, LocalTaskHandler>;
  /** Where status changes go (the local bus). */
  bus: EventPublisher;
  logger: Logger;
  /** Local stand-in for the Retry intervals (milliseconds), like the queues' retryDelayMs. */
  retryIntervalMs?: number;
  /** Where running executions are kept to be resumed after a restart; without it they end with the process. */
  journal?: ExecutionJournal;
}

export interface LocalExecution {
  name: string;
  input: unknown;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  output?: unknown;
  error?: string;
  cause?: string;
  abort(): void;
  done: Promise<void>;
}

/** `${PlanSegmentFunctionArn}` → planSegment. */
function taskNameOf(resource: unknown): string | undefined {
  const match = /^\$\{(\w+)\}$/.exec(String(resource));
  return match ? taskOfArnVariable(match[1]) : undefined;
}

export class LocalStateMachine implements LargeCsvPlanner {
  readonly arn: string;
  readonly executions = new Map<string, LocalExecution>();
  private readonly machine: StateMachine;
  private readonly states: Record<
    string,
    { Type: string; Resource?: string; Retry?: unknown[]; InputPath?: unknown; Parameters?: unknown }
  >;
  private readonly startAt: string;
  /** Set by suspend(): executions aborted then are not ended, and resume on the next start. */
  private suspended = false;

  constructor(private readonly options: LocalStateMachineOptions) {
    const text = readFileSync(path.join(options.repoRoot, options.wiring.definition), 'utf8');
    const definition = JSON.parse(text) as { StartAt: string; States: LocalStateMachine['states'] };
    this.states = definition.States;
    this.startAt = definition.StartAt;
    const start = this.states[this.startAt];
    // The input a start state is entered with is then a whole execution's input: resuming from it is running anew from there.
    if (options.journal && (start.InputPath !== undefined || start.Parameters !== undefined))
      throw new Error(`${options.wiring.definition}: cannot resume executions: start state ${this.startAt} reshapes its input`);
    for (const [stateName, state] of Object.entries(this.states)) {
      if (state.Type !== 'Task') continue;
      const task = taskNameOf(state.Resource);
      if (!task || !(task in options.wiring.tasks))
        throw new Error(
          `${options.wiring.definition}: state ${stateName} invokes ${state.Resource}, which is no task of stateMachines.${options.wiring.name}`,
        );
      if (!options.handlers[task]) throw new Error(`no local handler for task ${task}`);
    }
    // DefinitionSubstitutions, as CloudFormation applies them (with local function ARNs); the
    // Task states then run the local handlers instead of invoking those ARNs.
    const substituted = text.replace(/\$\{(\w+)\}/g, (variable, name: string) => {
      const task = taskOfArnVariable(name);
      return task ? `arn:aws:lambda:us-east-1:000000000000:function:${task}` : variable;
    });
    this.machine = new StateMachine(JSON.parse(substituted) as StateMachineDefinition);
    this.arn = localStateMachineArn(options.wiring.name);
  }

  async start(taskId: string, input: LargeCsvPlanState): Promise<{ started: boolean; executionName: string }> {
    const name = executionNameFor(taskId);
    if (this.executions.has(name)) return { started: false, executionName: name };
    this.run(name, input);
    return { started: true, executionName: name };
  }

  /**
   * Runs one execution in the background, from its input or from a checkpoint; its end (whatever
   * it is) is published on the bus.
   */
  run(name: string, input: unknown, checkpoint: unknown = input): LocalExecution {
    const { journal } = this.options;
    journal?.record({ name, input, checkpoint });
    const taskResourceLocalHandlers: NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers'] & object = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [stateName, state] of Object.entries(this.states)) {
      if (state.Type !== 'Task') continue;
      const task = taskNameOf(state.Resource) as string;
      const timeoutMs = this.options.wiring.tasks[task].timeout * 1000;
      const handler = this.options.handlers[task];
      taskResourceLocalHandlers[stateName] = (taskInput) => {
        if (stateName === this.startAt) journal?.checkpoint(name, taskInput);
        const deadline = Date.now() + timeoutMs;
        return handler(taskInput, { getRemainingTimeInMillis: () => deadline - Date.now() }) as Promise<JsonInput>;
      };
      if (state.Retry) retryIntervalOverrides[stateName] = this.options.retryIntervalMs ?? 10;
    }
    const running = this.machine.run(checkpoint as JsonInput, { overrides: { taskResourceLocalHandlers, retryIntervalOverrides } });
    const execution: LocalExecution = { name, input, status: 'RUNNING', abort: running.abort, done: Promise.resolve() };
    execution.done = running.result
      .then(
        (output) => {
          execution.status = 'SUCCEEDED';
          execution.output = output;
        },
        (error: Error) => {
          execution.status =
            error instanceof ExecutionTimeoutError ? 'TIMED_OUT' : error instanceof ExecutionAbortedError ? 'ABORTED' : 'FAILED';
          const caught = (error as { cause?: { name?: string; message?: string } }).cause;
          execution.error = caught?.name ?? error.name;
          execution.cause = caught?.message ?? error.message;
        },
      )
      .then(async () => {
        if (this.suspended) return;
        await this.publishStatus(execution);
        journal?.remove(name);
      });
    this.executions.set(name, execution);
    return execution;
  }

  /** Runs again every execution the journal holds (those running when the last process stopped); returns their names. */
  resume(): string[] {
    const pending = this.options.journal?.pending() ?? [];
    for (const { name, input, checkpoint } of pending) this.run(name, input, checkpoint);
    return pending.map(({ name }) => name);
  }

  /**
   * Stops every running execution without ending it: nothing is announced and the journal keeps
   * it, so the next start resumes it (without a journal it is simply gone).
   */
  suspend(): string[] {
    this.suspended = true;
    const running = [...this.executions.values()].filter((execution) => execution.status === 'RUNNING');
    for (const execution of running) execution.abort();
    return running.map(({ name }) => name);
  }

  /** Resolves when no execution is running. */
  async idle(): Promise<void> {
    await Promise.all([...this.executions.values()].map((execution) => execution.done));
  }

  running(): number {
    return [...this.executions.values()].filter((execution) => execution.status === 'RUNNING').length;
  }

  private async publishStatus(execution: LocalExecution): Promise<void> {
    const detail = {
      executionArn: `${this.arn.replace(':stateMachine:', ':execution:')}:${execution.name}`,
      stateMachineArn: this.arn,
      name: execution.name,
      status: execution.status,
      input: JSON.stringify(execution.input),
      error: execution.error ?? null,
      cause: execution.cause ?? null,
    };
    if (execution.status !== 'SUCCEEDED')
      this.options.logger.warn('large-CSV execution ended without success', {
        name: execution.name,
        status: execution.status,
        error: execution.error,
        cause: execution.cause,
      });
    try {
      await this.options.bus.publish([{ detailType: EXECUTION_STATUS_CHANGE, source: 'aws.states', detail }]);
    } catch (error) {
      this.options.logger.error('could not publish the execution status change', { name: execution.name, error: error as Error });
    }
  }
}
