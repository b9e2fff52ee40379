/** What is known of each vector as last written (the task table's HASH# items), and of its dataset. */

/** What is stored of a vector's last write, as fingerprints: what it was embedded from, and what metadata it carries. */
export interface StoredVector {
  /** embeddingKey() of the input last embedded. */
  inputHash: string;
  /** metadataHash() of the metadata last written. */
  metadataHash: string;
  dataset?: string;
  /** The task that last wrote the vector, how, and the tokens its input took. */
  taskId?: string;
  write?: VectorWrite;
  tokens?: number;
  /** The last full sync that saw the vector's record. */
  seenBy?: string;
  /** A record split into pieces has a row of its own (write `split`, no vector) saying how many. */
  pieces?: number;
}

/**
 * An upsert of a freshly embedded vector, a metadata update of a stored one, its deletion (by a
 * tombstone row, or as a surplus piece), or the row of a record split into pieces.
 */
export type VectorWrite = 'embed' | 'metadata' | 'delete' | 'split';

export interface VectorStateEntry {
  id: string;
  inputHash: string;
  metadataHash: string;
  dataset: string;
  tokens: number;
  write: Exclude<VectorWrite, 'delete'>;
  pieces?: number;
}

/** One page of a dataset's vectors (and split records' rows), in id order. */
export interface DatasetPage {
  entries: { id: string; seenBy?: string; write?: VectorWrite }[];
  /** Where the next page starts; absent after the last. */
  cursor?: string;
}

export interface ContentHashStore {
  /** `consistent` reads the latest write (twice the read cost); by default a read may lag a write by a moment. */
  get(namespace: string, ids: string[], options?: { consistent?: boolean }): Promise<Map<string, StoredVector>>;
  /** Notes writes by `taskId`; `seen` also marks them seen by it (a full sync). */
  put(namespace: string, entries: VectorStateEntry[], taskId: string, options?: { seen?: boolean }): Promise<void>;
  /** Marks vectors, as stored, seen by a full sync without another change. */
  markSeen(namespace: string, vectors: (StoredVector & { id: string })[], taskId: string): Promise<void>;
  /**
   * Notes that `taskId` deleted these vectors (tombstone rows): a short-lived marker, out of every
   * dataset, so that a retried chunk still counts the deletes its earlier attempt made.
   */
  markDeleted(namespace: string, ids: string[], taskId: string): Promise<void>;
  /** Forgets vectors a full sync deleted. */
  delete(namespace: string, ids: string[]): Promise<void>;
  /** Pages through a dataset as its index holds it, which may lag the latest writes by a moment. */
  scanDataset(namespace: string, dataset: string, options: { cursor?: string; limit: number }): Promise<DatasetPage>;
}
