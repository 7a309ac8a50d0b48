/**
 * `@keyturn/store-env`: webhook secrets from environment variables — the embedded default store.
 *
 * For secretId `X`:
 *
 * | variable | meaning |
 * | --- | --- |
 * | `X` (or `X_FILE`) | the active secret |
 * | `X_PREVIOUS` (or `X_PREVIOUS_FILE`) | the previous secret, still accepted during a rotation |
 * | `X_PREVIOUS_NOT_AFTER` | end of the previous secret's window: ISO-8601 or epoch ms. **Without it the previous secret is accepted until you remove it** (the verifier emits a `previous-key-unbounded` event once per key) |
 * | `X_PENDING` (or `X_PENDING_FILE`) | opt-in: a not-yet-promoted secret the sender may already use |
 * | `X_NOT_BEFORE`, `X_NOT_AFTER`, `X_PREVIOUS_NOT_BEFORE`, `X_PENDING_NOT_BEFORE`, `X_PENDING_NOT_AFTER` | other window ends, same formats |
 * | `X_KEY_ID`, `X_PREVIOUS_KEY_ID`, `X_PENDING_KEY_ID` | opt-in: name the key ids yourself (all of a secret's keys, or none) |
 *
 * `*_FILE` variables name a file holding the secret (Docker and Kubernetes secrets). Exactly one final
 * newline (`\n` or `\r\n`, what `echo secret > file` and most Kubernetes secrets write) is dropped
 * from a text file; any other surrounding whitespace is an error, as it is for variables: nothing else
 * is trimmed (a stray character changes an HMAC key). Empty values and unparseable dates are clear
 * errors too.
 *
 * Key ids: `X@<fingerprint>`, derived from the secret with PBKDF2-HMAC-SHA256 (10 000 iterations, salted
 * with the secret id), so a key keeps its id — and its usage counts — when a rotation moves it from `X` to
 * `X_PREVIOUS`, while an id costs a guesser 10 000 HMACs per guess: more than checking a guess against one
 * captured signed webhook (one HMAC). Or name them: `X_KEY_ID=2026-05` gives the id `X@2026-05`, which says
 * nothing about the secret; the price is that a rotation must move the id with the secret (`X_KEY_ID` to
 * `X_PREVIOUS_KEY_ID`). A secret that looks guessable (short, or few distinct characters) is reported once
 * per key (`onWarning`).
 *
 * The writable `.env`-file store is `envFileKeyStore` from `@keyturn/store-env/file` (Node only); this
 * entry point imports nothing from Node, so it bundles for Workers and browsers.
 *
 * @module
 */

export { envKeyStore, type EnvKeyStoreOptions } from './store.ts';
export type { EnvSecretWarning } from './key-ids.ts';
