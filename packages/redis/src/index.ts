/**
 * `@keyturn/redis`: a keyturn fleet on Redis. Every instance verifying for a secret hears "secret X
 * changed" the moment a rotation's store write lands (and "rotation in progress" before the sender's
 * rotate call), counts its matches into one shared ledger for a fleet-wide "safe to retire" verdict,
 * and shares replay claims — on the ioredis or node-redis client you already use, standalone or
 * cluster. Nothing of a secret ever goes to Redis: ids, counts and times only.
 *
 * @module
 */
export { redisFleet, type RedisFleet } from './fleet.ts';
export { RedisFleetError, type RedisFleetOptions } from './options.ts';
export type { RedisFleetCommands, RedisSubscription, SubscribeHandlers } from './client.ts';
export { DEFAULT_PREFIX } from './keys.ts';
export { MAX_NOTICE_LENGTH } from './notices.ts';
export {
  redisReplayStore,
  RedisReplayStoreError,
  RELEASE_SCRIPT,
  type RedisReplayStore,
  type RedisReplayStoreOptions,
  type RedisCommands,
  type IoRedisLike,
  type NodeRedisLike,
  type NodeRedisSetOptions,
  type NodeRedisEvalOptions,
} from './replay.ts';
