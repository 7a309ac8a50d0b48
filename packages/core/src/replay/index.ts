/**
 * Replay defence: refuse a valid signed request that was already accepted, accept a retry after the
 * handler failed.
 *
 * @module
 */
export { memoryReplayStore, type MemoryReplayStore, type MemoryReplayStoreOptions } from './memory.ts';
export type { ReplayStore, ReplayOptions, ReplayClaim } from './types.ts';
