/** Announces a task's planned chunks in PutEvents-sized batches, for both planners (in the planner Lambda and the large-CSV loop). */
import type { ChunkCommon, ChunkOwn } from '../domain/plan';
import type { ChunkPlanned } from '../events/types';
import type { Dependencies } from '../ports';

/** PutEvents takes at most 10 entries. */
const EVENTS_PER_PUBLISH = 10;

export type Announce = (chunk: ChunkOwn) => Promise<void>;

/**
 * `commonOf` gives what every chunk of the task carries for the source's header, which each chunk
 * has with it: the date column is resolved on the header, which is known only once the source is read.
 */
export function chunkAnnouncer(
  commonOf: (header: readonly string[]) => ChunkCommon,
  deps: Pick<Dependencies, 'events' | 'plans' | 'now'>,
): { announce: Announce; flush: () => Promise<void> } {
  let pending: ChunkPlanned[] = [];
  const flush = async () => {
    if (!pending.length) return;
    // Kept before it is announced: a chunk whose message is then lost can be announced again (the sweeper).
    await deps.plans.save(pending, deps.now());
    await deps.events.publish('ChunkPlanned', pending);
    pending = [];
  };
  return {
    flush,
    async announce(chunk) {
      pending.push({ ...commonOf(chunk.source.header), ...chunk });
      if (pending.length >= EVENTS_PER_PUBLISH) await flush();
    },
  };
}
