/**
 * The drill's settings: the store, the load, the fault timeline and the fleet's timings.
 */

/** Where the receivers read keys from. */
export type StoreConfig =
  | { readonly kind: 'env-file'; readonly path: string }
  | { readonly kind: 'aws'; readonly endpoint: string; readonly region: string }
  | { readonly kind: 'gcp'; readonly port: number; readonly project: string };

/** What a receiver process gets (JSON in `DRILL_RECEIVER`). */
export interface ReceiverConfig {
  readonly name: string;
  readonly port: number;
  readonly redisPort: number;
  readonly prefix: string;
  readonly secretId: string;
  readonly store: StoreConfig;
  readonly fleet: FleetTimings;
}

/** The fleet's timings (short, so faults resolve within the drill). */
export interface FleetTimings {
  readonly flushIntervalMs: number;
  readonly heartbeatMs: number;
  readonly staleAfterMs: number;
  readonly instanceTimeoutMs: number;
}

/** When things happen, in ms from the first delivery. */
export interface Timeline {
  /** The rotation (`keyturn rotate dataspike … --redis-url`). */
  readonly rotateAt: number;
  /** Straggler window: this fraction of deliveries is still signed with the old secret. */
  readonly stragglersFrom: number;
  readonly stragglersTo: number;
  readonly stragglerShare: number;
  /** One receiver killed (SIGKILL) and restarted. */
  readonly killAt: number;
  readonly restartAt: number;
  /** Redis killed (SIGKILL) and restarted on its append-only file. */
  readonly redisRestartAt: number;
  /** Redis unreachable (SIGSTOP … SIGCONT). */
  readonly outageAt: number;
  readonly outageMs: number;
  /** Last delivery sent. */
  readonly stopAt: number;
}

/** Options of `runDrill`. */
export interface DrillOptions {
  readonly store: StoreConfig['kind'];
  /** Deliveries per second across the fleet. */
  readonly rate: number;
  readonly receivers: number;
  /** The verdict's quiet period. */
  readonly quietMs: number;
  readonly timeline: Timeline;
  readonly fleet: FleetTimings;
  /** Key-change notices sent after the load, to measure propagation (spaced `noticeSpacingMs`). */
  readonly notices: number;
  readonly noticeSpacingMs: number;
  /** Longest wait for the verdict to say "yes" after the last delivery. */
  readonly verdictWaitMs: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
}

const SECOND = 1_000;

/** `pnpm drill`: 2 000 deliveries/s for 60 s, a 10 s outage. */
export function fullOptions(store: StoreConfig['kind'], log: (line: string) => void): DrillOptions {
  return {
    store,
    rate: 2_000,
    receivers: 3,
    quietMs: 5 * SECOND,
    timeline: {
      rotateAt: 8 * SECOND,
      stragglersFrom: 15 * SECOND,
      stragglersTo: 19 * SECOND,
      stragglerShare: 0.05,
      killAt: 18 * SECOND,
      restartAt: 21 * SECOND,
      redisRestartAt: 30 * SECOND,
      outageAt: 38 * SECOND,
      outageMs: 10 * SECOND,
      stopAt: 60 * SECOND,
    },
    fleet: { flushIntervalMs: 1_000, heartbeatMs: 1_000, staleAfterMs: 3_000, instanceTimeoutMs: 8_000 },
    notices: 100,
    noticeSpacingMs: 300,
    verdictWaitMs: 40 * SECOND,
    log,
  };
}

/** The test command's short drill: the same phases, compressed, at a rate a shared CI machine keeps. */
export function quickOptions(store: StoreConfig['kind'], log: (line: string) => void): DrillOptions {
  return {
    store,
    rate: 150,
    receivers: 3,
    quietMs: 2 * SECOND,
    timeline: {
      rotateAt: 2 * SECOND,
      stragglersFrom: 6 * SECOND,
      stragglersTo: 7_500,
      stragglerShare: 0.1,
      killAt: 7 * SECOND,
      restartAt: 8 * SECOND,
      redisRestartAt: 10 * SECOND,
      outageAt: 12 * SECOND,
      outageMs: 2 * SECOND,
      stopAt: 16 * SECOND,
    },
    fleet: { flushIntervalMs: 250, heartbeatMs: 500, staleAfterMs: 1_500, instanceTimeoutMs: 3_000 },
    notices: 20,
    noticeSpacingMs: 300,
    verdictWaitMs: 30 * SECOND,
    log,
  };
}
