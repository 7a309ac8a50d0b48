/**
 * Flag tables: one list per group of flags gives both the `parseArgs` options and the help lines.
 *
 * @module
 */
import type { ParseArgsConfig } from 'node:util';

/** One flag. */
export interface FlagSpec {
  /** `string` (takes a value) or `boolean`. */
  readonly type: 'string' | 'boolean';
  /** The value's placeholder in help (`PATH`, `URL`). */
  readonly arg?: string;
  /** One line of help. */
  readonly help: string;
  /** Repeatable. */
  readonly multiple?: boolean;
  /** One-letter alias. */
  readonly short?: string;
}

/** Flags by name (without `--`). */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** The `parseArgs` options of some flag tables. */
export function flagOptions(...tables: FlagTable[]): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = {};
  for (const table of tables) {
    for (const [name, f] of Object.entries(table))
      out[name] = {
        type: f.type,
        ...(f.multiple === true ? { multiple: true } : {}),
        ...(f.short !== undefined ? { short: f.short } : {}),
      };
  }
  return out;
}

/** Help lines for a flag table: `  --name ARG   help`, aligned. */
export function flagHelp(table: FlagTable): string {
  return Object.entries(table)
    .map(([name, f]) => {
      const left = `${f.short !== undefined ? `-${f.short}, ` : ''}--${name}${f.arg !== undefined ? ` ${f.arg}` : ''}`;
      return `  ${left.padEnd(27)}${f.help}`;
    })
    .join('\n');
}
