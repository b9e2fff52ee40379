/**
 * The wired functions as deployed: handler, size, concurrency, event source mapping, environment.
 */
import { consumers, getAtt, ofType, pascal, resource, usePackagedTemplate } from './helpers';

usePackagedTemplate();

describe('consumers', () => {
  it.each(consumers)('%s: handler, size, reserved concurrency and event source mapping as wired', (name, c) => {
    const fn = resource(`${pascal(name)}LambdaFunction`).Properties;
    expect(fn).toMatchObject({
      Handler: c.handler,
      Timeout: c.timeout,
      MemorySize: c.memorySize,
      ReservedConcurrentExecutions: c.reservedConcurrency,
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
    });
    expect(fn.Environment.Variables).toMatchObject({
      MAX_RECEIVE_COUNT: String(c.maxReceiveCount),
      DEAD_LETTER_QUEUE_URL: { Ref: `${pascal(name)}DeadLetterQueue` },
    });
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, r]) => r.Properties.FunctionName['Fn::GetAtt'][0] === `${pascal(name)}LambdaFunction`,
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0][1].Properties).toMatchObject({
      EventSourceArn: getAtt(`${pascal(name)}Queue`),
      BatchSize: c.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: c.maximumConcurrency },
    });
  });

  it('runs the embedder at 5 reserved executions fed by at most 5 pollers', () => {
    expect(resource('EmbedderLambdaFunction').Properties.ReservedConcurrentExecutions).toBe(5);
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping').find(
      ([, r]) => r.Properties.FunctionName['Fn::GetAtt'][0] === 'EmbedderLambdaFunction',
    )!;
    expect(mapping.Properties.ScalingConfig.MaximumConcurrency).toBe(5);
  });

  it('tells every function the embedder concurrency and timeout from the wiring: the planner sizes chunks by them', () => {
    const embedder = consumers.find(([name]) => name === 'embedder')![1];
    expect(resource('PlannerLambdaFunction').Properties.Environment.Variables).toMatchObject({
      EMBEDDER_CONCURRENCY: String(embedder.maximumConcurrency),
      EMBEDDER_TIMEOUT_SECONDS: String(embedder.timeout),
    });
  });
});
