/**
 * The bucket, the task table and the log groups.
 */
import { allFunctions, ofType, resource, STAGE, usePackagedTemplate } from './helpers';

usePackagedTemplate();

describe('storage', () => {
  it('keeps the bucket private, owner-enforced, encrypted and TLS-only', () => {
    const bucket = resource('DataBucket').Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    const algorithm = bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm;
    expect(['AES256', 'aws:kms']).toContain(algorithm);
    const [, policy] = ofType('AWS::S3::BucketPolicy').find(([, r]) => r.Properties.Bucket.Ref === 'DataBucket')!;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('keys the task table on pk/sk, with the dataset and byCreated indexes, on demand, encrypted, with point-in-time recovery and TTL', () => {
    const table = resource('TasksTable').Properties;
    expect(table.TableName).toBe(`vectordb-tasks-${STAGE}`);
    expect(table.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'dpk', AttributeType: 'S' },
      { AttributeName: 'dsk', AttributeType: 'S' },
      { AttributeName: 'cpk', AttributeType: 'S' },
      { AttributeName: 'csk', AttributeType: 'S' },
    ]);
    // A full sync pages through a dataset's fingerprints by this index; only keys and seenBy are projected.
    expect(table.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'dataset',
        KeySchema: [
          { AttributeName: 'dpk', KeyType: 'HASH' },
          { AttributeName: 'dsk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['seenBy', 'write'] },
      },
      // GET /tasks lists tasks newest first by this index; only what a list shows is projected.
      {
        IndexName: 'byCreated',
        KeySchema: [
          { AttributeName: 'cpk', KeyType: 'HASH' },
          { AttributeName: 'csk', KeyType: 'RANGE' },
        ],
        Projection: {
          ProjectionType: 'INCLUDE',
          NonKeyAttributes: [
            'taskId',
            'status',
            'dataSource',
            'namespace',
            'dataset',
            'dryRun',
            'planned',
            'recordsTotal',
            'processed',
            'skipped',
            'failed',
            'tokens',
            'createdAt',
            'updatedAt',
            'startedAt',
            'completedAt',
          ],
        },
      },
    ]);
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  it('keeps logs 30 days', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups).toHaveLength(allFunctions.length);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });
});
