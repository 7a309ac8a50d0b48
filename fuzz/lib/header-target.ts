/** Turns a {@link HeaderSpec} into a Jazzer.js fuzz function. */
import { Input } from './input.ts';
import { prepare, runHeaderCase, type HeaderSpec } from './headers.ts';

/** A synchronous fuzz function over one profile. */
export function headerTarget(spec: HeaderSpec): (data: Buffer) => void {
  const prepared = prepare(spec);
  return (data) => runHeaderCase(prepared, new Input(data));
}
