/** Starts the large-CSV state machine on AWS: StartExecution named after the task (idempotent). */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { executionNameFor, type LargeCsvFanout } from '../../usecases/planSegment';

export function createStepFunctionsFanout(client: SFNClient, stateMachineArn: string): LargeCsvFanout {
  return {
    async start(taskId, input) {
      const executionName = executionNameFor(taskId);
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(input) }));
        return { started: true, executionName };
      } catch (error) {
        // The same name was started before (a redelivered TaskRequested): that execution owns the plan.
        if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists') return { started: false, executionName };
        throw error;
      }
    },
  };
}
