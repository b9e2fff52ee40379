/**
 * The vector store local mode uses when no PINECONE_API_KEY is set: an embedded LanceDB database
 * on disk, one table per namespace, with Pinecone's semantics (upsert replaces a record whole,
 * query scores are cosine similarities, query filters in Pinecone's metadata filter language).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Connection, Table } from '@lancedb/lancedb';
import { matchesMetadataFilter } from '../../shared/domain/metadataFilter';
import type { Metadata, MetadataFilter, Vector, VectorMatch, VectorRecord, VectorStore } from '../../shared/ports';

export interface LanceDbVectorStoreOptions {
  /** Database directory, e.g. `.local/vectors`; created on first write. */
  directory: string;
  dimensions?: number;
}

export interface LanceDbVectorStore extends VectorStore {
  /** Number of records in the namespace (0 when it has none yet). */
  count(namespace: string): Promise<number>;
  /** Releases the database handle; the store reconnects if used again. */
  close(): Promise<void>;
}

/** A row as stored: metadata is JSON because its keys differ from dataset to dataset. */
interface Row extends Record<string, unknown> {
  id: string;
  vector: number[];
  metadata: string;
}

/** Ids per `IN (...)` filter, to keep the SQL text of one fetch bounded. */
const FETCH_CHUNK = 500;
/** How much wider each filtered search looks than the one before. */
const FILTER_WIDENING = 4;
/** Leaves room for the `.lance` suffix within the 255-byte file-name limit. */
const MAX_TABLE_NAME = 200;
/**
 * Each merge-insert adds a fragment, and finding ids scans every fragment not covered by the id
 * index, so fetch and upsert slow down as batches pile up (at 500 fragments: fetch of 100 ids
 * 190 ms without the index, 10 ms with it). Rebuilding the BTREE index reads only the id column
 * (about 150 ms at 50K rows). Compaction (`optimize`) is avoided on purpose: in LanceDB 0.31 it made
 * flat vector search about 7x slower.
 */
const ID_INDEX_EVERY_WRITES = 50;

/**
 * Write queues per table, shared by every store in the process: concurrent merge-inserts on one
 * table can conflict, and two stores may well be opened on the same directory.
 */
const writeQueues = new Map<string, Promise<void>>();

export function createLanceDbVectorStore({ directory, dimensions = 1536 }: LanceDbVectorStoreOptions): LanceDbVectorStore {
  const root = path.resolve(directory);
  let connecting: Promise<Connection> | undefined;
  const tables = new Map<string, Table>();
  const writesPerTable = new Map<string, number>();

  const connection = (): Promise<Connection> => {
    connecting ??= (async () => {
      // Loaded on first use, so that importing this module costs nothing when Pinecone is configured.
      const lancedb = await import('@lancedb/lancedb');
      // Interval 0: every read sees the latest commit, including writes made through another store instance.
      return lancedb.connect(root, { readConsistencyInterval: 0 });
    })().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };

  /** The namespace's table, or undefined while nothing has been written to it. */
  const existingTable = async (name: string): Promise<Table | undefined> => {
    const cached = tables.get(name);
    if (cached) return cached;
    const db = await connection();
    if (!(await db.tableNames()).includes(name)) return undefined;
    const table = await db.openTable(name);
    tables.set(name, table);
    return table;
  };

  const checkDimensions = (values: Vector, what: string): void => {
    // LanceDB pads or truncates a vector of the wrong length without complaint, so check here.
    if (values.length !== dimensions) throw new Error(`${what} has ${values.length} dimensions, the store expects ${dimensions}`);
  };

  return {
    description: `lancedb (${directory})`,

    async upsert(namespace, records) {
      // Last write wins within a batch, as in Pinecone; merge-insert leaves duplicate source ids undefined.
      const rows = new Map<string, Row>();
      for (const record of records) {
        checkDimensions(record.values, `vector ${record.id}`);
        rows.set(record.id, { id: record.id, vector: Array.from(record.values), metadata: JSON.stringify(record.metadata) });
      }
      if (rows.size === 0) return;
      const name = tableName(namespace);
      await serialised(`${root}\0${name}`, async () => {
        let table = await existingTable(name);
        if (table) {
          await table
            .mergeInsert('id')
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
            .execute([...rows.values()]);
        } else {
          // Inferred schema: id and metadata Utf8, vector FixedSizeList<Float32>[dimensions].
          table = await (await connection()).createTable(name, [...rows.values()]);
          tables.set(name, table);
        }
        const writes = (writesPerTable.get(name) ?? 0) + 1;
        writesPerTable.set(name, writes);
        if (writes % ID_INDEX_EVERY_WRITES === 0) {
          const { Index } = await import('@lancedb/lancedb');
          await table.createIndex('id', { config: Index.btree(), replace: true });
        }
      });
    },

    async fetch(namespace, ids) {
      const found = new Map<string, VectorRecord>();
      const table = ids.length > 0 ? await existingTable(tableName(namespace)) : undefined;
      if (!table) return found;
      const unique = [...new Set(ids)];
      for (let start = 0; start < unique.length; start += FETCH_CHUNK) {
        const filter = `id IN (${unique
          .slice(start, start + FETCH_CHUNK)
          .map(sqlString)
          .join(', ')})`;
        const rows: Array<{ id: string; vector: Iterable<number>; metadata: string }> = await table
          .query()
          .where(filter)
          .select(['id', 'vector', 'metadata'])
          .toArray();
        for (const row of rows) {
          found.set(row.id, { id: row.id, values: Float32Array.from(row.vector), metadata: JSON.parse(row.metadata) as Metadata });
        }
      }
      return found;
    },

    async delete(namespace, ids) {
      const name = tableName(namespace);
      const unique = [...new Set(ids)];
      if (unique.length === 0) return;
      await serialised(`${root}\0${name}`, async () => {
        const table = await existingTable(name);
        if (!table) return;
        for (let start = 0; start < unique.length; start += FETCH_CHUNK) {
          await table.delete(
            `id IN (${unique
              .slice(start, start + FETCH_CHUNK)
              .map(sqlString)
              .join(', ')})`,
          );
        }
      });
    },

    async query(namespace, vector, topK, filter?: MetadataFilter) {
      checkDimensions(vector, 'query vector');
      const table = topK > 0 ? await existingTable(tableName(namespace)) : undefined;
      if (!table) return [];
      const nearest = async (limit: number): Promise<VectorMatch[]> => {
        const rows: Array<{ id: string; metadata: string; _distance: number }> = await table
          .vectorSearch(vector)
          .distanceType('cosine')
          .limit(limit)
          // Naming _distance explicitly avoids Lance's deprecation warning about projecting it implicitly.
          .select(['id', 'metadata', '_distance'])
          .toArray();
        // Cosine distance is 1 - cosine similarity; Pinecone's cosine score is the similarity.
        return rows.map((row): VectorMatch => ({ id: row.id, score: 1 - row._distance, metadata: JSON.parse(row.metadata) as Metadata }));
      };
      if (!filter) return nearest(topK);
      // The metadata is one JSON column, which Lance's SQL filters cannot look into: the filter is
      // applied to the nearest vectors, widening the search until topK match or the table is exhausted.
      for (let limit = topK * FILTER_WIDENING; ; limit *= FILTER_WIDENING) {
        const matches = await nearest(limit);
        const kept = matches.filter((match) => matchesMetadataFilter(match.metadata, filter));
        if (kept.length >= topK || matches.length < limit) return kept.slice(0, topK);
      }
    },

    async count(namespace) {
      const table = await existingTable(tableName(namespace));
      return table ? table.countRows() : 0;
    },

    async close() {
      const pending = connecting;
      connecting = undefined;
      tables.clear();
      // A connection that never opened has nothing to release.
      (await pending?.catch(() => undefined))?.close();
    },
  };
}

/**
 * A table name for a namespace. LanceDB accepts only [A-Za-z0-9_.-] (and panics on anything else),
 * and on case-insensitive file systems (macOS, Windows) "Docs" and "docs" would share a directory,
 * so only lowercase letters, digits and '-' are kept and every other UTF-8 byte becomes `_xx`. The
 * mapping is reversible and collision-free; `__` never occurs in it, which frees `__default__` for
 * the empty namespace and `__h` for hashing names that would be too long for a file name.
 */
function tableName(namespace: string): string {
  if (namespace === '') return '__default__';
  let name = '';
  for (const byte of Buffer.from(namespace, 'utf8')) {
    const isKept = (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d;
    name += isKept ? String.fromCharCode(byte) : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return name.length <= MAX_TABLE_NAME ? name : `__h${createHash('sha256').update(namespace).digest('hex')}`;
}

/** A SQL string literal: single quotes are doubled, nothing else is special. */
function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Runs `task` after every earlier task queued under `key` has settled. */
async function serialised<T>(key: string, task: () => Promise<T>): Promise<T> {
  const run = (writeQueues.get(key) ?? Promise.resolve()).then(task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  writeQueues.set(key, tail);
  try {
    return await run;
  } finally {
    // Forget the queue once idle so that the map does not grow with every namespace ever written.
    if (writeQueues.get(key) === tail) writeQueues.delete(key);
  }
}
