/**
 * Pinecone's data-plane limits. An upsert's size is counted as 4 bytes per dimension plus the
 * metadata JSON of each record, not as the JSON body: Pinecone's own table gives 245 records of
 * 1536 dims with 2 KB metadata per upsert, which only 2,000,000 bytes reproduces.
 */
export const MAX_UPSERT_RECORDS = 1000;
export const MAX_UPSERT_BYTES = 2_000_000;
export const MAX_METADATA_BYTES = 40 * 1024;
export const MAX_ID_LENGTH = 512;
/** Ids per fetch or delete. */
export const MAX_IDS = 1000;
export const MAX_TOP_K = 10_000;
/** topK when the matches include values or metadata. */
export const MAX_TOP_K_WITH_DATA = 1000;
/** Far above the largest upsert, so only a runaway client meets it. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Envoy's default limit on request headers, which bounds the ids a fetch URL can carry. */
export const MAX_HEADER_BYTES = 60 * 1024;
