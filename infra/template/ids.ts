/** Deterministic CloudFormation logical IDs of everything the compiler declares, from wiring names. */
import type { Wiring } from '../wiring';
import { ref, type Ref } from './cloudFormation';

/** Logical IDs of the resources serverless.yml declares outside the wiring. */
export const SHARED = { bus: 'EventBus', table: 'TasksTable', bucket: 'DataBucket' } as const;

/** "chunk-embedder" -> "ChunkEmbedder": deterministic CloudFormation logical ID prefix. */
export function logicalId(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

/** Every logical ID derived from one wired name (function, consumer or state machine). */
export const ids = (name: string) => {
  const base = logicalId(name);
  return {
    queue: `${base}Queue`,
    deadLetterQueue: `${base}DeadLetterQueue`,
    queuePolicy: `${base}QueuePolicy`,
    rule: `${base}Rule`,
    role: `${base}ExecutionRole`,
    errorsAlarm: `${base}ErrorsAlarm`,
    durationAlarm: `${base}DurationAlarm`,
    deadLetterAlarm: `${base}DeadLetterQueueAlarm`,
    stateMachine: `${base}StateMachine`,
    stateMachineRole: `${base}StateMachineRole`,
    executionsFailedAlarm: `${base}ExecutionsFailedAlarm`,
    executionsTimedOutAlarm: `${base}ExecutionsTimedOutAlarm`,
    // Serverless's own name for a function's AWS::Lambda::Function.
    function: `${base}LambdaFunction`,
  };
};

/** Every wired state machine's ARN (Ref of an AWS::StepFunctions::StateMachine is its ARN). */
export const stateMachineArns = (wiring: Wiring): Record<string, Ref> =>
  Object.fromEntries(Object.keys(wiring.stateMachines).map((name) => [name, ref(ids(name).stateMachine)]));

/** A VPC deployment's endpoints, one per AWS service (`s3` → `S3VpcEndpoint`), and their security group. */
export const vpcEndpointIds = {
  securityGroup: 'VpcEndpointSecurityGroup',
  endpoint: (service: string) => `${logicalId(service)}VpcEndpoint`,
};
