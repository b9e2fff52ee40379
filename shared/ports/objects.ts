/** The bucket CSV sources and chunk files live in (S3, s3rver locally). */
import type { Readable } from 'node:stream';

export interface ObjectHead {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  versionId?: string;
}

export interface ObjectStore {
  readonly bucket: string;
  /** Returns undefined when the object (or that version of it) does not exist. */
  head(key: string, options?: { versionId?: string }): Promise<ObjectHead | undefined>;
  /** Streams the object (that version of it, if named), or the bytes [start, end) of it; fails if its etag is no longer `etag`. */
  read(key: string, options?: { start?: number; end?: number; etag?: string; versionId?: string }): Promise<Readable>;
  put(key: string, body: string | Buffer): Promise<ObjectHead>;
}
