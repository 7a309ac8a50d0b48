/**
 * `@keyturn/replay-redis` is now part of `@keyturn/redis` (the fleet package: replay claims, key-change
 * notices, rotation fences and the shared usage ledger on one client and one prefix scheme). This
 * package re-exports its replay store unchanged, so existing imports keep working; new code imports
 * `@keyturn/redis`.
 *
 * @deprecated Import `redisReplayStore` from `@keyturn/redis` (or use `redisFleet({ client }).replayStore()`).
 * @module
 */
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
} from '@keyturn/redis';
