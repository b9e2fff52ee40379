/** Starts the large-CSV state machine on AWS: StartExecution named after the task (idempotent). */
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { executionNameFor } from '../../domain/plan';
import type { LargeCsvPlanner } from '../../ports';

export function createStepFunctionsLargeCsvPlanner(client: SFNClient, stateMachineArn: string): LargeCsvPlanner {
  return {
    async start(taskId, input) {
      const executionName = executionNameFor(taskId);
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(input) }));
        return { started: true, executionName };
      } catch (error) {
        // The same name was started before (a redelivered TaskRequested): that execution owns the plan.
        if (error instanceof ExecutionAlreadyExists) return { started: false, executionName };
        throw error;
      }
    },
  };
}
