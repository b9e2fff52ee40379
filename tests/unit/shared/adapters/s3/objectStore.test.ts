/**
 * The S3 object store against s3rver (a real S3 API), through the AWS SDK: heads, whole and ranged
 * reads, the ETag guard, missing objects, and a version pin on a bucket that keeps no versions.
 */
import { createS3ObjectStore } from '../../../../../shared/adapters/s3/objectStore';
import { SourceError } from '../../../../../shared/errors';
import { useEmulators } from '../../../../helpers/emulators';

const text = async (stream: NodeJS.ReadableStream) => {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(Buffer.from(piece as Buffer));
  return Buffer.concat(pieces).toString('utf8');
};

describe('createS3ObjectStore (s3rver)', () => {
  const emulators = useEmulators('objects-test');
  const store = () => createS3ObjectStore(emulators().s3, 'bucket-test');

  it('puts an object and heads it: size and ETag as read back', async () => {
    const put = await store().put('a/people.csv', 'id,formatted_text\n1,hello\n');
    const head = await store().head('a/people.csv');
    expect(head).toEqual({ bucket: 'bucket-test', key: 'a/people.csv', size: 26, etag: put.etag, versionId: undefined });
  });

  it('reads the whole object, or the bytes [start, end) of it', async () => {
    await store().put('a/range.csv', '0123456789');
    expect(await text(await store().read('a/range.csv'))).toBe('0123456789');
    expect(await text(await store().read('a/range.csv', { start: 2, end: 5 }))).toBe('234');
    expect(await text(await store().read('a/range.csv', { start: 7 }))).toBe('789');
  });

  it('refuses a read whose ETag is no longer the object’s, naming it', async () => {
    const first = await store().put('a/changed.csv', 'first');
    await store().put('a/changed.csv', 'second, longer');
    const reading = store().read('a/changed.csv', { etag: first.etag });
    await expect(reading).rejects.toThrow(
      new SourceError(`s3://bucket-test/a/changed.csv changed after it was planned (its ETag is no longer ${first.etag})`),
    );
  });

  it('heads a missing object as undefined and fails its read as a SourceError', async () => {
    expect(await store().head('a/missing.csv')).toBeUndefined();
    const reading = store().read('a/missing.csv');
    await expect(reading).rejects.toMatchObject({ message: 's3://bucket-test/a/missing.csv does not exist' });
    await expect(reading).rejects.toBeInstanceOf(SourceError);
  });

  it('answers a pinned version on a bucket without versions with no version id, so a planner can tell', async () => {
    await store().put('a/unversioned.csv', 'x');
    const head = await store().head('a/unversioned.csv', { versionId: 'v1' });
    expect(head?.versionId).toBeUndefined();
  });
});
