/** dynalite and s3rver for one test file: started before its tests, stopped (data removed) after. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulators, type Emulators } from '../../local/emulators';

/** Returns a getter, valid inside the tests, for emulators with a table of this name. */
export function useEmulators(tableName: string): () => Emulators {
  let emulators: Emulators | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), `${tableName}-`));
    emulators = await startEmulators({
      dataDir,
      persist: false,
      region: 'us-east-1',
      tableName,
      bucketName: 'bucket-test',
      dynamoPort: 0,
      s3Port: 0,
    });
  });
  afterAll(async () => {
    await emulators?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!emulators) throw new Error('emulators are only available inside tests');
    return emulators;
  };
}
