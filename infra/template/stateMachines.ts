/**
 * A state machine from its ASL file (the same file local mode runs): the task functions' ARNs go
 * in as DefinitionSubstitutions (`${PlanSegmentFunctionArn}`, infra/wiring.ts's taskArnVariable),
 * its role may invoke exactly those functions, and alarms fire on any failed or timed-out execution.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { taskArnVariable, type StateMachineWiring } from '../wiring';
import { stateMachineAlarms } from './alarms';
import { getAtt, type Resources } from './cloudFormation';
import { physicalName, type Context } from './context';
import { serviceRole } from './iam';
import { ids } from './ids';

const REPO_ROOT = path.resolve(__dirname, '../..');

export function stateMachineResources(ctx: Context, name: string, machine: StateMachineWiring): Resources {
  const id = ids(name);
  const definition: unknown = JSON.parse(readFileSync(path.join(REPO_ROOT, machine.definition), 'utf8'));
  const tasks = Object.keys(machine.tasks);
  const taskArn = (task: string) => getAtt(ids(task).function, 'Arn');
  const machineName = physicalName(ctx, name);
  return {
    [id.stateMachineRole]: serviceRole(`${machineName}: invokes its own task functions only`, 'states.amazonaws.com', 'invoke-own-tasks', [
      { Sid: 'InvokeOwnTasks', Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: tasks.map(taskArn) },
    ]),
    [id.stateMachine]: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: machineName,
        StateMachineType: 'STANDARD',
        RoleArn: getAtt(id.stateMachineRole, 'Arn'),
        Definition: definition,
        DefinitionSubstitutions: Object.fromEntries(tasks.map((task) => [taskArnVariable(task), taskArn(task)])),
      },
    },
    ...stateMachineAlarms(ctx, name),
  };
}
