/**
 * The Redis commands a fleet needs, on the client you already use: ioredis (`Redis`, `Cluster`) or
 * node-redis (`createClient()`, `createCluster()`), or any client through {@link RedisFleetCommands}.
 * Everything but `PUBLISH` and `SUBSCRIBE` is a Lua script, so one code path serves every client and
 * every multi-key step runs atomically on one node (all keys of one script share a hash tag).
 *
 * @module
 */

/** A subscription made by {@link RedisFleetCommands.subscribe}. */
export interface RedisSubscription {
  /** Unsubscribes and closes the subscriber connection. */
  close(): Promise<void>;
}

/** Callbacks of {@link RedisFleetCommands.subscribe}. */
export interface SubscribeHandlers {
  /** A message arrived on the channel. */
  onMessage(message: string): void;
  /**
   * The subscription is (again) in place after the connection was lost and re-established: notices may
   * have been missed in between.
   */
  onResubscribed(): void;
  /** The subscriber connection reported an error (it reconnects on its own). */
  onError(error: unknown): void;
}

/** An adapter for any other Redis client: three methods. */
export interface RedisFleetCommands {
  /** `EVAL script numkeys key… arg…`; resolves to the script's reply. */
  eval(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** `PUBLISH channel message`. */
  publish(channel: string, message: string): Promise<unknown>;
  /**
   * Subscribes to `channel` on a **dedicated** connection (a subscribed connection cannot run other
   * commands), calling `onResubscribed` whenever it re-subscribed after a reconnect.
   */
  subscribe(channel: string, handlers: SubscribeHandlers): Promise<RedisSubscription>;
}

/** The ioredis surface used (`Redis` or `Cluster`). */
interface IoRedisClient {
  readonly status: string;
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<unknown>;
  duplicate(...args: unknown[]): IoRedisClient;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
  readonly isCluster?: boolean;
}

/** The node-redis surface used (a client or a cluster, v4+). */
interface NodeRedisClient {
  readonly isOpen: boolean;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  publish(channel: string, message: string): Promise<unknown>;
  duplicate(overrides?: unknown): NodeRedisClient;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel?: string): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  destroy?(): unknown;
  disconnect?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
}

function isAdapter(client: object): client is RedisFleetCommands {
  const c = client as Partial<RedisFleetCommands> & { status?: unknown; isOpen?: unknown };
  return (
    typeof c.eval === 'function' &&
    typeof c.publish === 'function' &&
    typeof c.subscribe === 'function' &&
    c.status === undefined &&
    c.isOpen === undefined
  );
}

/**
 * Recognises `client`: a {@link RedisFleetCommands} adapter, node-redis (`isOpen`), or ioredis (`status`).
 *
 * @internal
 */
export function toFleetCommands(client: unknown, where: string): RedisFleetCommands {
  if (client === null || typeof client !== 'object') {
    throw new TypeError(`${where}: \`client\` must be an ioredis or node-redis client (or cluster), or a RedisFleetCommands adapter`);
  }
  if (isAdapter(client)) return client;
  const c = client as Record<string, unknown>;
  if (typeof c['eval'] !== 'function' || typeof c['publish'] !== 'function' || typeof c['duplicate'] !== 'function') {
    throw new TypeError(
      `${where}: \`client\` has no eval/publish/duplicate methods; pass an ioredis or node-redis client, or a RedisFleetCommands adapter`,
    );
  }
  if (typeof c['isOpen'] === 'boolean') return nodeRedis(client as NodeRedisClient);
  if (typeof c['status'] === 'string') return ioRedis(client as IoRedisClient);
  throw new TypeError(`${where}: unrecognised client (neither ioredis nor node-redis); pass a RedisFleetCommands adapter`);
}

function ioRedis(client: IoRedisClient): RedisFleetCommands {
  return {
    eval: (script, keys, args) => client.eval(script, keys.length, ...keys, ...args),
    publish: (channel, message) => client.publish(channel, message),
    async subscribe(channel, handlers) {
      // The subscriber must queue its SUBSCRIBE until it is connected, whatever the main client does.
      const overrides = { enableOfflineQueue: true, lazyConnect: false, autoResubscribe: true };
      const sub = client.isCluster === true ? client.duplicate([], overrides) : client.duplicate(overrides);
      let closed = false;
      let first = true;
      sub.on('error', (error) => handlers.onError(error));
      sub.on('message', (ch, message) => {
        if (ch === channel && typeof message === 'string') handlers.onMessage(message);
      });
      sub.on('ready', () => {
        if (first || closed) return;
        // ioredis re-subscribes by itself; subscribing again (harmless) tells us when it is in place.
        sub.subscribe(channel).then(
          () => handlers.onResubscribed(),
          (error: unknown) => handlers.onError(error),
        );
      });
      await sub.subscribe(channel);
      first = false;
      return {
        async close() {
          closed = true;
          try {
            await sub.quit();
          } catch {
            sub.disconnect();
          }
        },
      };
    },
  };
}

function nodeRedis(client: NodeRedisClient): RedisFleetCommands {
  return {
    eval: (script, keys, args) => client.eval(script, { keys: [...keys], arguments: [...args] }),
    publish: (channel, message) => client.publish(channel, message),
    async subscribe(channel, handlers) {
      const sub = client.duplicate({ disableOfflineQueue: false });
      let closed = false;
      let first = true;
      const listener = (message: string, ch: string): void => {
        if (ch === channel && typeof message === 'string') handlers.onMessage(message);
      };
      sub.on('error', (error) => handlers.onError(error));
      sub.on('ready', () => {
        if (first || closed) return;
        // node-redis re-subscribes by itself; the same listener again is not added twice.
        sub.subscribe(channel, listener).then(
          () => handlers.onResubscribed(),
          (error: unknown) => handlers.onError(error),
        );
      });
      await sub.connect();
      await sub.subscribe(channel, listener);
      first = false;
      return {
        async close() {
          closed = true;
          try {
            await sub.unsubscribe(channel);
          } catch {
            // closing anyway
          }
          try {
            if (typeof sub.close === 'function') await sub.close();
            else if (typeof sub.quit === 'function') await sub.quit();
            else sub.destroy?.();
          } catch {
            sub.destroy?.();
          }
        },
      };
    },
  };
}
