/**
 * The small interfaces between the use cases and the outside world. Adapters in shared/adapters/
 * implement them for AWS and the providers; local mode (local/) supplies local ones. Types only.
 */
export type * from './catchupLedger';
export type * from './chunkPlans';
export type * from './contentHashes';
export type * from './dependencies';
export type * from './embedder';
export type * from './events';
export type * from './largeCsv';
export type * from './logger';
export type * from './objects';
export type * from './questionSource';
export type * from './syncLedger';
export type * from './taskQueries';
export type * from './tasks';
export type * from './vectors';
