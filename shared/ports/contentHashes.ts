/** What is known of each vector as last upserted (the task table's HASH# items). */

/** What is known of a vector as last upserted: its content hash, the task that upserted it and the tokens its input took. */
export interface StoredHash {
  hash: string;
  taskId?: string;
  tokens?: number;
}

/** The content hash of each vector as last upserted, per namespace and id (incremental runs). */
export interface ContentHashStore {
  get(namespace: string, ids: string[]): Promise<Map<string, StoredHash>>;
  put(namespace: string, entries: { id: string; hash: string; tokens: number }[], taskId: string): Promise<void>;
}
