/**
 * Fuzz target: the generic `hmac({...})` header parser over its configurations (the first two
 * bytes pick encoding, algorithm, prefix, separator, timestamp/id headers, template and codec);
 * the properties are lib/headers.ts's.
 */
import { prepare, runHeaderCase } from '../lib/headers.ts';
import { pickHmacSpec } from '../lib/hmac-options.ts';
import { Input } from '../lib/input.ts';

const prepared = new Map<object, ReturnType<typeof prepare>>();

export function fuzz(data: Buffer): void {
  const input = new Input(data);
  const spec = pickHmacSpec(input);
  if (spec instanceof TypeError) return;
  let p = prepared.get(spec);
  if (p === undefined) prepared.set(spec, (p = prepare(spec)));
  runHeaderCase(p, input);
}
