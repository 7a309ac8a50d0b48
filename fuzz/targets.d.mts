/** A fuzz target (see targets.mjs). */
export interface FuzzTarget {
  readonly name: string;
  readonly file: string;
  readonly sync: boolean;
  readonly dict: readonly string[];
  readonly maxLen: number;
  readonly what: string;
}
export declare const targets: readonly FuzzTarget[];
