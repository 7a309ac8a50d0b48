import type { FuzzTarget } from '../targets.mjs';

/** libFuzzer's statistics for one run. */
export interface FuzzStats {
  execs: number | undefined;
  cov: number | undefined;
  ft: number | undefined;
  corpus: number | undefined;
  execPerSec: number | undefined;
  seconds: number | undefined;
  crash: string | undefined;
}
export declare function bundle(target: FuzzTarget): Promise<string>;
export declare function parseStats(output: string): FuzzStats;
export declare function runTarget(
  target: FuzzTarget,
  options?: { seconds?: number; runs?: number; workCorpus?: string; seeds?: boolean; extra?: string[]; quiet?: boolean },
): Promise<{ exitCode: number; ok: boolean; output: string; stats: FuzzStats }>;
