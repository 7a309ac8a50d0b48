/**
 * The key-change markers of `dynamodbFleet()`: one small item per secret (`seq`, `chg` key changes, `v`
 * version id, `fence` a rotation fence's end). A container reads the markers of the secrets it holds
 * (one `BatchGetItem`) and applies what changed since its last read; the rotation workflows and the CLI
 * bump them.
 *
 * @internal
 * @module
 */
import type { FleetMember } from '@keyturn/core';
import { N, num, str, type Commands, type Item } from './client.ts';
import type { ItemKeys } from './keys.ts';

/** What a container last read of one marker. */
interface MarkerState {
  seq: number;
  changes: number;
  fence: number | undefined;
}

/** What the markers need from the fleet. */
export interface MarkerDeps {
  /** The table's commands. */
  readonly db: Commands;
  /** The item keys of the fleet's prefix. */
  readonly keys: ItemKeys;
  /** Clock, epoch ms. */
  readonly now: () => number;
  /** The joined verifiers (their held secrets are polled; changes and fences go to them). */
  readonly members: ReadonlySet<FleetMember>;
  /** A marker read failed (nothing is missed: markers are state, read again at the next poll). */
  readonly onPollError: (error: unknown) => void;
}

/** The markers of one fleet. */
export interface Markers {
  /** Reads every held secret's marker and applies what changed since the last read (one read at a time). */
  poll(): Promise<void>;
  /** When the last poll started (epoch ms; `-Infinity` before the first). */
  readonly lastPollAt: number;
  /** One `UpdateItem` on a secret's marker (`:one` and `:now` are bound). */
  bump(secretId: string, expression: string, values: Item, names?: Record<string, string>): Promise<void>;
}

/** The markers of a fleet. */
export function markers(deps: MarkerDeps): Markers {
  const { db, keys, now, members, onPollError } = deps;
  const state = new Map<string, MarkerState>();
  let lastPollAt = -Infinity;
  let polling: Promise<void> | undefined;

  function heldIds(): string[] {
    const ids = new Set<string>();
    for (const m of members) for (const id of m.secretIds()) ids.add(id);
    return [...ids];
  }

  /** Reads every held secret's marker and applies what changed since the last read. */
  function poll(): Promise<void> {
    if (polling !== undefined) return polling;
    lastPollAt = now();
    polling = (async () => {
      const ids = heldIds();
      if (ids.length === 0) return;
      let items: Item[];
      try {
        items = await db.batchGet(
          ids.map((id) => keys.marker(id)),
          false,
        );
      } catch (error) {
        onPollError(error);
        return;
      }
      const byPk = new Map(items.map((i) => [str(i, 'pk'), i]));
      const t = now();
      for (const id of ids) {
        const item = byPk.get(str(keys.marker(id), 'pk'));
        apply(id, item, t);
      }
    })().finally(() => {
      polling = undefined;
    });
    return polling;
  }

  function apply(secretId: string, item: Item | undefined, t: number): void {
    const seq = num(item, 'seq') ?? 0;
    const changes = num(item, 'chg') ?? 0;
    const fenceEnd = num(item, 'fence');
    const fence = fenceEnd !== undefined && fenceEnd > t ? fenceEnd : undefined;
    const prev = state.get(secretId);
    state.set(secretId, { seq, changes, fence });
    if (prev === undefined) {
      // First read: a fence that stands now applies (the keys just loaded are current otherwise).
      if (fence !== undefined) for (const m of members) m.fence(secretId, fence - t);
      return;
    }
    if (seq === prev.seq && fence === prev.fence) return;
    if (changes > prev.changes) {
      const versionId = str(item, 'v');
      for (const m of members) void m.changed(secretId, versionId);
      return;
    }
    if (fence !== undefined && fence !== prev.fence) for (const m of members) m.fence(secretId, fence - t);
    else if (fence === undefined && prev.fence !== undefined) for (const m of members) m.fence(secretId, 0);
  }

  async function bump(secretId: string, expression: string, values: Item, names?: Record<string, string>): Promise<void> {
    await db.update({
      Key: keys.marker(secretId),
      UpdateExpression: expression,
      ExpressionAttributeValues: { ':one': N(1), ':now': N(now()), ...values },
      ...(names === undefined ? {} : { ExpressionAttributeNames: names }),
    });
  }

  return {
    poll,
    get lastPollAt() {
      return lastPollAt;
    },
    bump,
  };
}
