/**
 * `keyturn sign`, `keyturn verify` and `keyturn challenge smartcar`.
 *
 * @module
 */
import { createVerifier, providers, sign, VerificationError, type SecretVersion, type Verifier } from '@keyturn/core';
import { readSecretFlag, type CliIo } from '../common.ts';
import { EXIT, UsageError, verificationExitCode } from '../exit.ts';
import { openStore, STORE_FILE_FLAG, type OpenedStore } from '../stores.ts';
import { type Values, profileOf, readBody, secretIdOf } from './shared.ts';

/** `keyturn sign`: the headers a provider would send for a body. */
export async function signCommand(io: CliIo, values: Values): Promise<number> {
  const provider = profileOf(values['provider']);
  const secret = await readSecretFlag(io, values, 'secret', { required: true });
  const body = await readBody(io, values);
  const timestamp = values['timestamp'] === undefined ? undefined : Number(values['timestamp']);
  if (timestamp !== undefined && !Number.isInteger(timestamp)) throw new UsageError('--timestamp must be unix seconds');
  const headers = sign(provider, {
    body,
    secret: secret as string,
    timestamp: timestamp ?? (provider.timestampTolerance ? Math.floor(io.now() / 1000) : undefined),
    id: values['id'] as string | undefined,
  });
  if (values['json'] === true) io.stdout(JSON.stringify(headers, null, 2) + '\n');
  else for (const [k, v] of Object.entries(headers)) io.stdout(`${k}: ${v}\n`);
  return EXIT.OK;
}
/** `keyturn verify`: verifies a body and headers; the exit code tells the error code. */
export async function verifyCommand(io: CliIo, values: Values): Promise<number> {
  const provider = profileOf(values['provider']);
  const headers: Record<string, string> = {};
  for (const h of (values['header'] as string[] | undefined) ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`-H "${h.slice(0, 40)}": expected "Name: value"`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const usesStore = values['store'] !== undefined || values[STORE_FILE_FLAG] !== undefined;
  let verifier: Verifier;
  let opened: OpenedStore | undefined;
  const now = values['now'] === undefined ? io.now : () => Number(values['now']);
  if (usesStore) {
    opened = await openStore(io, values);
    verifier = createVerifier({ provider, keys: opened.store, secretId: secretIdOf(values), now });
  } else {
    const active = await readSecretFlag(io, values, 'secret', { required: true });
    const previous = await readSecretFlag(io, values, 'previous-secret', { required: false });
    const keys: SecretVersion[] = [{ id: 'active', role: 'active', secret: active as string }];
    if (previous !== undefined) keys.push({ id: 'previous', role: 'previous', secret: previous });
    verifier = createVerifier({ provider, keys, now });
  }
  const body = await readBody(io, values);
  try {
    const result = await verifier.verify({ body, headers });
    if (values['json'] === true) io.stdout(JSON.stringify({ ok: true, ...result }, null, 2) + '\n');
    else io.stdout(`verified: key ${result.keyId} (${result.keyRole}) for ${result.secretId}\n`);
    return EXIT.OK;
  } catch (err) {
    if (!(err instanceof VerificationError)) throw err;
    if (values['json'] === true) io.stdout(JSON.stringify({ ok: false, error: err.toJSON() }, null, 2) + '\n');
    else io.stderr(`rejected: ${err.code}: ${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}\n`);
    return verificationExitCode(err.code);
  } finally {
    await verifier.dispose();
    await opened?.close();
  }
}
/** `keyturn challenge smartcar`: the answer to a Smartcar VERIFY challenge. */
export async function challengeSmartcarCommand(io: CliIo, values: Values): Promise<number> {
  const provider = providers.smartcar();
  let payload: unknown;
  const challenge = values['challenge'] as string | undefined;
  if (challenge !== undefined) payload = { eventType: 'VERIFY', data: { challenge } };
  else {
    const bytes = await readBody(io, { 'body-file': values['payload-file'] });
    try {
      payload = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new UsageError('the VERIFY payload is not JSON (pass --challenge STRING, --payload-file FILE or the payload on stdin)');
    }
  }
  const usesStore = values['store'] !== undefined || values[STORE_FILE_FLAG] !== undefined;
  let opened: OpenedStore | undefined;
  let verifier: Verifier;
  if (usesStore) {
    opened = await openStore(io, values);
    verifier = createVerifier({ provider, keys: opened.store, secretId: secretIdOf(values), now: io.now });
  } else {
    const secret = await readSecretFlag(io, values, 'secret', { required: true, defaultEnv: undefined });
    verifier = createVerifier({ provider, keys: [{ id: 'active', role: 'active', secret: secret as string }], now: io.now });
  }
  try {
    if (!verifier.isChallenge(payload)) throw new UsageError('the payload is not a Smartcar VERIFY challenge');
    const answer = await verifier.answerChallenge(payload);
    io.stdout(JSON.stringify(answer) + '\n');
    return EXIT.OK;
  } finally {
    await verifier.dispose();
    await opened?.close();
  }
}
