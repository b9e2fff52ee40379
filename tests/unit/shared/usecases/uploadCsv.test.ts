/** POST /uploads stores the file under the ingest prefix, one key per upload, and says where its task will be listed. */
import { NotConfiguredError, UnusableInputError } from '../../../../shared/errors';
import { uploadCsv } from '../../../../shared/usecases/uploadCsv';
import { configWith, fakeObjects, memoryObjects } from '../../../helpers/fakes';

const NOW = new Date('2026-06-01T10:15:30.000Z');
const INGEST = { INGEST_PREFIX: 'incoming/', INGEST_SUFFIX: '.csv' };

describe('uploadCsv', () => {
  it('stores the body under the ingest prefix and answers the key, its size and the task list of its dataset', async () => {
    const objects = memoryObjects();
    const answer = await uploadCsv({ name: 'people.csv' }, 'id,formatted_text\n1,Grüße\n', {
      config: configWith(INGEST),
      objects,
      now: () => NOW,
    });
    expect(answer).toEqual({
      bucket: 'test-bucket',
      key: expect.stringMatching(/^incoming\/20260601T101530Z-[0-9a-f]{8}-people\.csv$/),
      s3_uri: `s3://test-bucket/${answer.key}`,
      bytes: 28, // UTF-8 bytes: 26 characters, ü and ß two bytes each
      tasks_url: `/tasks?dataset=${encodeURIComponent(answer.key)}`,
    });
    expect(objects.files.get(answer.key)?.toString('utf8')).toBe('id,formatted_text\n1,Grüße\n');
  });

  it('gives two uploads of one file two keys, so each starts its own task', async () => {
    const objects = memoryObjects();
    const deps = { config: configWith(INGEST), objects, now: () => NOW };
    const first = await uploadCsv({ name: 'people.csv' }, 'id\n1\n', deps);
    const second = await uploadCsv({ name: 'people.csv' }, 'id\n1\n', deps);
    expect(first.key).not.toBe(second.key);
    expect(objects.files.size).toBe(2);
  });

  it('stores nothing when the name or the body is refused, or when there is no ingest trigger', async () => {
    const deps = { config: configWith(INGEST), objects: fakeObjects({}), now: () => NOW };
    await expect(uploadCsv({ name: 'people.txt' }, 'id\n1\n', deps)).rejects.toThrow(/name must end in \.csv/);
    await expect(uploadCsv({ name: 'people.csv' }, '', deps)).rejects.toThrow(UnusableInputError);
    await expect(uploadCsv({ name: 'people.csv' }, 'id\n1\n', { ...deps, config: configWith() })).rejects.toThrow(NotConfiguredError);
  });
});
