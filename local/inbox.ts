/**
 * The inbox folder of local mode: a CSV copied into it is uploaded (streamed) to the local bucket
 * under the ingest prefix, which starts a task exactly as an S3 upload does, then moved to
 * `uploaded/` beside it.
 */
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface InboxOptions {
  dir: string;
  s3: S3Client;
  bucket: string;
  prefix: string;
  onUpload: (file: string, key: string) => void;
  onError: (file: string, error: Error) => void;
}

/** A file is taken once its size has stopped changing, so a copy in progress is not uploaded half-done. */
const SETTLE_MS = 500;

export function watchInbox(options: InboxOptions): { close(): void } {
  mkdirSync(path.join(options.dir, 'uploaded'), { recursive: true });
  const pending = new Map<string, NodeJS.Timeout>();

  const upload = async (name: string) => {
    const file = path.join(options.dir, name);
    const key = `${options.prefix}${name}`;
    try {
      await options.s3.send(
        new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: createReadStream(file), ContentLength: statSync(file).size }),
      );
      renameSync(file, path.join(options.dir, 'uploaded', `${Date.now()}-${name}`));
      options.onUpload(file, key);
    } catch (error) {
      options.onError(file, error as Error);
    }
  };

  const consider = (name: string) => {
    if (!name.toLowerCase().endsWith('.csv')) return;
    const file = path.join(options.dir, name);
    clearTimeout(pending.get(name));
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    pending.set(
      name,
      setTimeout(() => {
        pending.delete(name);
        if (!existsSync(file)) return;
        if (statSync(file).size !== size) return consider(name);
        void upload(name);
      }, SETTLE_MS),
    );
  };

  const watcher: FSWatcher = watch(options.dir, (_event, name) => name && consider(name.toString()));
  // Files already waiting when the runtime starts are taken too.
  for (const name of readdirSync(options.dir)) consider(name);
  return {
    close() {
      watcher.close();
      pending.forEach((timer) => clearTimeout(timer));
    },
  };
}
