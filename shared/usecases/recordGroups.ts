/**
 * A record as the vectors it becomes: one vector under its own id, or, for a text longer than one
 * vector holds (README › Long texts), pieces `<id>#0`, `<id>#1`, … with `_parent_id`, `_piece` and
 * `_pieces`, and a row of its own in the fingerprints saying how many. What a record was before
 * decides what must go now: pieces beyond the new count, the bare vector of a record that became
 * pieces, the pieces of one that became a single vector again.
 */
import { fitToTokenLimit } from '../domain/batching';
import { splitIntoPieces } from '../domain/pieces';
import { embeddingKey, METADATA_BYTE_BUDGET, metadataHash, type PreparedRecord } from '../domain/records';
import type { ChunkPlanned } from '../events/types';
import type { Config } from '../config';
import type { Metadata, StoredVector, VectorStateEntry } from '../ports';
import type { Candidate } from './vectorWrites';

export interface RecordGroup {
  recordNumber: number;
  /** The record's own id (a piece's `_parent_id`). */
  id: string;
  dataset: string;
  /** The vectors it becomes: itself, or its pieces. */
  candidates: Candidate[];
  split: boolean;
}

/** Bytes kept free in a piece's metadata for JSON escaping and Pinecone's own accounting. */
const PIECE_METADATA_MARGIN = 0.9;

export function pieceId(id: string, piece: number): string {
  return `${id}#${piece}`;
}

/** The ids of a record's pieces `from` (inclusive) to `to` (exclusive). */
export function pieceIds(id: string, to: number, from = 0): string[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => pieceId(id, from + i));
}

export function recordGroup(
  record: Extract<PreparedRecord, { kind: 'embed' }>,
  chunk: ChunkPlanned,
  settings: { longText: Config['longText']; model: string; dimensions: number; datasetNamed: boolean },
): RecordGroup {
  const dataset = String(record.metadata._dataset ?? chunk.dataset);
  const fingerprint = (text: string, metadata: Metadata) => ({
    inputHash: embeddingKey(text, settings.model, settings.dimensions),
    metadataHash: metadataHash(metadata, { datasetNamed: settings.datasetNamed }),
  });
  const mode = chunk.longText ?? settings.longText.mode;
  const { maxTokensPerVector, overlapTokens } = settings.longText;
  const { text: _cut, _text_truncated: _flag, ...others } = record.metadata;
  const pieceBytes = () => {
    const around = Buffer.byteLength(JSON.stringify({ ...others, _parent_id: record.id, _piece: 99999, _pieces: 99999 }));
    return Math.floor((METADATA_BYTE_BUDGET - around) * PIECE_METADATA_MARGIN);
  };
  const fitted = fitToTokenLimit(record.text, maxTokensPerVector);
  // A text within the token limit stays one vector, as it always was (its stored text cut to the metadata budget if need be).
  const pieces =
    mode === 'split' && fitted.truncated
      ? splitIntoPieces(record.text, { maxTokens: maxTokensPerVector, overlapTokens, maxBytes: pieceBytes() })
      : [];
  if (pieces.length <= 1) {
    const single: Candidate = { ...record, ...fitted, ...fingerprint(fitted.text, record.metadata), dataset };
    return { recordNumber: record.recordNumber, id: record.id, dataset, candidates: [single], split: false };
  }
  const candidates = pieces.map((piece, i): Candidate => {
    const metadata: Metadata = { ...others, text: piece.text, _parent_id: record.id, _piece: i, _pieces: pieces.length };
    const id = pieceId(record.id, i);
    return {
      ...record,
      id,
      text: piece.text,
      tokens: piece.tokens,
      truncated: false,
      metadata,
      ...fingerprint(piece.text, metadata),
      dataset,
    };
  });
  return { recordNumber: record.recordNumber, id: record.id, dataset, candidates, split: true };
}

/** Ids whose fingerprints must be read besides the group's own vectors: its own id, when it became pieces. */
export function groupIds(group: RecordGroup): string[] {
  return group.split ? [group.id, ...group.candidates.map((candidate) => candidate.id)] : [group.id];
}

/** How many pieces the record had when last written: 0 for a single vector, undefined when never written (or deleted). */
export function previousPieces(stored: StoredVector | undefined): number | undefined {
  if (!stored || stored.write === 'delete') return undefined;
  return stored.write === 'split' ? (stored.pieces ?? 0) : 0;
}

/** The vectors of what the record was that it no longer is. */
export function staleIds(group: RecordGroup, before: number | undefined): string[] {
  if (before === undefined) return [];
  const now = group.split ? group.candidates.length : 0;
  if (!group.split) return pieceIds(group.id, before);
  if (before === 0) return [group.id];
  return pieceIds(group.id, before, now);
}

/** The row that says a record is now in pieces (no vector of its own). */
export function splitEntry(group: RecordGroup): VectorStateEntry {
  return {
    id: group.id,
    inputHash: '',
    metadataHash: '',
    dataset: group.dataset,
    tokens: 0,
    write: 'split',
    pieces: group.candidates.length,
  };
}
