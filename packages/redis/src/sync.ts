/**
 * The notice side of a Redis fleet: the subscriber connection, notices in and out, the fences this
 * process has applied, and the re-validation of every held secret when notices may have been missed
 * (after a reconnect, or a notice number that skips).
 *
 * @module
 */
import type { FleetMember, FleetNotice, KeyturnEvent } from '@keyturn/core';
import type { RedisFleetCommands, RedisSubscription } from './client.ts';
import type { KeyNames } from './keys.ts';
import { decodeNotice, noticeTemplate } from './notices.ts';
import type { EvalScript } from './options.ts';
import { FENCE_TTL_SCRIPT, PUBLISH_SCRIPT } from './scripts.ts';

/** A notice number ahead of the last one received for this long means notices were missed. */
const SEQ_GRACE_MS = 1_000;
/** Most secrets whose fence is remembered (past it the set starts over: at worst a fence applied twice). */
const MAX_FENCES_SEEN = 10_000;

/** What the notice side shares with the rest of the fleet. */
export interface SyncContext {
  readonly commands: RedisFleetCommands;
  readonly names: KeyNames;
  readonly members: ReadonlySet<FleetMember>;
  readonly evalScript: EvalScript;
  readonly now: () => number;
  emit(event: KeyturnEvent): void;
  /** Keys waiting for a flush (for `fleet-error` events). */
  pendingKeys(): number;
  /** The subscriber is back: flush at once (the counts kept during the outage). */
  onResubscribed(): void;
}

/** Notices, fences and missed-notice detection for one fleet. */
export class NoticeSync {
  private subscription: RedisSubscription | undefined;
  private subscribing: Promise<void> | undefined;
  private resyncing: Promise<void> | undefined;
  /** Number of the last notice received (or read); `undefined` until known. */
  private lastSeq: number | undefined;
  /** Since when the sequence read from Redis is ahead of the last notice received. */
  private behindSince: number | undefined;
  /** Secrets whose current fence this process has applied (from a notice or a flush), bounded. */
  private readonly fencesSeen = new Set<string>();
  private closed = false;

  constructor(private readonly ctx: SyncContext) {}

  /** Whether the subscriber connection is up. */
  get subscribed(): boolean {
    return this.subscription !== undefined;
  }

  /** Publishes a notice (with the next notice number, in one script). */
  async publish(notice: FleetNotice): Promise<void> {
    await this.ctx.evalScript('PUBLISH', PUBLISH_SCRIPT, [this.ctx.names.seq], [this.ctx.names.channel, noticeTemplate(notice)]);
  }

  /** Applies a fence to every member and remembers it. */
  applyFence(secretId: string, ttlMs: number): void {
    this.remember(secretId);
    for (const m of this.ctx.members) m.fence(secretId, ttlMs);
  }

  /**
   * A flush read the fence's remaining time (`ttlMs` ≤ 0: none): a fence this process has not heard of
   * (it started during it, or missed the notice) is applied now.
   */
  fenceFromLedger(secretId: string, ttlMs: number): void {
    if (ttlMs > 0 && !this.fencesSeen.has(secretId)) this.applyFence(secretId, ttlMs);
    else if (ttlMs <= 0) this.fencesSeen.delete(secretId);
  }

  /**
   * The notice number Redis holds now (read with each report). Ahead of the last notice received for
   * {@link SEQ_GRACE_MS}, or behind it (Redis was reset): notices were missed, every held secret is
   * re-validated.
   */
  observeSeq(seq: number): void {
    if (!Number.isFinite(seq) || this.ctx.members.size === 0) return;
    if (this.lastSeq === undefined) this.lastSeq = seq;
    else if (seq < this.lastSeq) {
      this.lastSeq = seq;
      void this.resync();
    } else if (seq > this.lastSeq) {
      const t = this.ctx.now();
      if (this.behindSince === undefined) this.behindSince = t;
      else if (t - this.behindSince >= SEQ_GRACE_MS) {
        this.lastSeq = seq;
        this.behindSince = undefined;
        void this.resync();
      }
    }
  }

  /** Opens the subscriber connection (once; retried by the next heartbeat after a failure). */
  subscribe(): void {
    if (this.subscribing !== undefined || this.closed) return;
    this.subscribing = (async () => {
      try {
        this.subscription = await this.ctx.commands.subscribe(this.ctx.names.channel, {
          onMessage: (message) => this.onMessage(message),
          onResubscribed: () => {
            void this.resync();
            this.ctx.onResubscribed();
          },
          onError: () => undefined, // the subscriber reconnects by itself; `onResubscribed` follows
        });
        if (this.closed) await this.subscription.close();
      } catch (error) {
        this.ctx.emit({ type: 'fleet-error', fleet: 'redis', operation: 'subscribe', pending: this.ctx.pendingKeys(), error });
        this.subscribing = undefined;
      }
    })();
  }

  /** Closes the subscriber connection. `final`: the fleet is closed, it never subscribes again. */
  async unsubscribe(final: boolean): Promise<void> {
    if (final) this.closed = true;
    await this.subscribing?.catch(() => undefined);
    const s = this.subscription;
    this.subscription = undefined;
    this.subscribing = undefined;
    await s?.close().catch(() => undefined);
  }

  /** Fences that stand now (their notices may be among the missed ones), then every held secret. */
  resync(): Promise<void> {
    if (this.resyncing !== undefined) return this.resyncing;
    this.resyncing = (async () => {
      try {
        await this.fenceState().catch((error: unknown) =>
          this.ctx.emit({ type: 'fleet-error', fleet: 'redis', operation: 'resync', pending: this.ctx.pendingKeys(), error }),
        );
        await Promise.all([...this.ctx.members].map((m) => m.resync()));
      } finally {
        this.resyncing = undefined;
      }
    })();
    return this.resyncing;
  }

  private remember(secretId: string): void {
    if (this.fencesSeen.size >= MAX_FENCES_SEEN) this.fencesSeen.clear();
    this.fencesSeen.add(secretId);
  }

  private onMessage(message: string): void {
    const decoded = decodeNotice(message);
    if (typeof decoded === 'string') {
      this.ctx.emit({ type: 'fleet-notice-ignored', fleet: 'redis', reason: decoded, length: message.length });
      return;
    }
    const { notice, seq } = decoded;
    if (this.lastSeq !== undefined && seq > this.lastSeq + 1) void this.resync();
    if (this.lastSeq === undefined || seq > this.lastSeq) this.lastSeq = seq;
    this.behindSince = undefined;
    if (notice.type === 'rotation-started') this.remember(notice.secretId);
    else this.fencesSeen.delete(notice.secretId);
    for (const m of this.ctx.members) {
      if (notice.type === 'key-changed') void m.changed(notice.secretId, notice.versionId);
      else m.fence(notice.secretId, notice.type === 'rotation-started' ? notice.ttlMs : 0);
    }
  }

  private async fenceState(): Promise<void> {
    const ids = new Set<string>();
    for (const m of this.ctx.members) for (const id of m.secretIds()) ids.add(id);
    await Promise.all(
      [...ids].map(async (id) => {
        const ttl = Number(await this.ctx.evalScript('PTTL', FENCE_TTL_SCRIPT, [this.ctx.names.fence(id)], []));
        if (ttl > 0) this.applyFence(id, ttl);
      }),
    );
  }
}
