/**
 * The optional VPC deployment, both ways: off by default (no VpcConfig, no endpoint, no EC2
 * permission), and on with the stage parameters (every function in the subnets, the ENI
 * permissions in every function's role, an endpoint for every AWS service the functions call).
 */
import {
  actionsOf,
  allFunctions,
  asArray,
  ofType,
  OPTIONAL_SETTINGS,
  packaged,
  pascal,
  resource,
  type Statement,
  type Template,
  usePackagedTemplate,
} from './helpers';

usePackagedTemplate();
const withVpc = usePackagedTemplate(OPTIONAL_SETTINGS);

const list = (ids: string) => ids.split(',');
const lambdaFunctions = (template: Template) => ofType('AWS::Lambda::Function', template);
const statementsOf = (template: Template, name: string): Statement[] =>
  resource(`${pascal(name)}ExecutionRole`, template).Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);

/** The statements Lambda uses on the function's behalf, from outside the VPC: these need no endpoint. */
const LAMBDA_SERVICE_ACTIONS = /^(logs|ec2):|^sqs:(ReceiveMessage|DeleteMessage|GetQueueAttributes|ChangeMessageVisibility)$/;

describe('VPC, off by default', () => {
  it('puts no function in a VPC and declares no endpoint, security group or EC2 permission', () => {
    const { template } = packaged();
    expect(lambdaFunctions(template).length).toBeGreaterThanOrEqual(allFunctions.length);
    for (const [, fn] of lambdaFunctions(template)) expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(Object.values(template.Resources).filter((r) => r.Type.startsWith('AWS::EC2::'))).toEqual([]);
    for (const [name] of allFunctions) expect(actionsOf(statementsOf(template, name)).filter((a) => a.startsWith('ec2:'))).toEqual([]);
  });
});

describe('VPC, on with vpcSubnetIds and vpcSecurityGroupIds', () => {
  it('puts every function in the given subnets with the given security groups', () => {
    const { template } = withVpc();
    expect(lambdaFunctions(template).length).toBeGreaterThanOrEqual(allFunctions.length);
    for (const [, fn] of lambdaFunctions(template)) {
      expect(fn.Properties.VpcConfig).toEqual({
        SubnetIds: list(OPTIONAL_SETTINGS.vpcSubnetIds),
        SecurityGroupIds: list(OPTIONAL_SETTINGS.vpcSecurityGroupIds),
      });
    }
  });

  it.each(allFunctions)('%s: its own role may manage its network interfaces, as AWSLambdaVPCAccessExecutionRole allows', (name) => {
    const { template } = withVpc();
    const eni = statementsOf(template, name).filter((s) => asArray(s.Action).some((a) => a.startsWith('ec2:')));
    expect(eni).toEqual([
      {
        Sid: 'VpcNetworkInterfaces',
        Effect: 'Allow',
        Action: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        Resource: '*',
      },
    ]);
    // The rest of the role is what it is outside a VPC.
    expect(statementsOf(template, name).filter((s) => !eni.includes(s))).toEqual(statementsOf(packaged().template, name));
  });

  /** Endpoints by the service they serve (`com.amazonaws.<region>.<service>`). */
  const endpoints = () =>
    new Map(
      ofType('AWS::EC2::VPCEndpoint', withVpc().template).map(([id, r]) => [
        String(r.Properties.ServiceName['Fn::Sub']).replace('com.amazonaws.${AWS::Region}.', ''),
        { id, ...r.Properties },
      ]),
    );

  it('creates gateway endpoints for S3 and DynamoDB on the route tables, interface endpoints for the other services', () => {
    const found = endpoints();
    expect([...found.keys()].sort()).toEqual(['dynamodb', 'events', 's3', 'secretsmanager', 'sqs', 'states']);
    for (const [service, endpoint] of found) {
      expect(endpoint.VpcId).toBe(OPTIONAL_SETTINGS.vpcId);
      if (service === 's3' || service === 'dynamodb') {
        expect(endpoint).toMatchObject({ VpcEndpointType: 'Gateway', RouteTableIds: list(OPTIONAL_SETTINGS.vpcRouteTableIds) });
      } else {
        expect(endpoint).toMatchObject({
          VpcEndpointType: 'Interface',
          SubnetIds: list(OPTIONAL_SETTINGS.vpcSubnetIds),
          SecurityGroupIds: [{ Ref: 'VpcEndpointSecurityGroup' }],
          PrivateDnsEnabled: true,
        });
      }
    }
  });

  it('has an endpoint for every AWS service any function role lets its code call', () => {
    const found = endpoints();
    for (const [, role] of ofType('AWS::IAM::Role', withVpc().template).filter(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
    )) {
      const actions = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement).flatMap((s: Statement) => asArray(s.Action));
      for (const action of actions.filter((a: string) => !LAMBDA_SERVICE_ACTIONS.test(a))) {
        expect({ action, endpoint: found.has(action.split(':')[0]) }).toEqual({ action, endpoint: true });
      }
    }
  });

  it("opens the interface endpoints on HTTPS to the functions' security groups only", () => {
    const group = resource('VpcEndpointSecurityGroup', withVpc().template).Properties;
    expect(group.VpcId).toBe(OPTIONAL_SETTINGS.vpcId);
    expect(group.SecurityGroupIngress).toEqual(
      list(OPTIONAL_SETTINGS.vpcSecurityGroupIds).map((id) =>
        expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: id }),
      ),
    );
  });
});
