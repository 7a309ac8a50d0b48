// The verifiers of the Next.js example, one per provider, created on first use: `next build` loads
// route modules without the runtime secrets. Secrets come from the environment, which works in both
// route-handler runtimes (Node and Edge); keyturn picks node:crypto or WebCrypto by itself.
import { createVerifier, providers, type ProviderProfile, type SecretVersion, type Verifier } from '@keyturn/core';

const PROFILES: Readonly<Record<string, { profile: () => ProviderProfile; secret: string }>> = {
  smartcar: { profile: () => providers.smartcar(), secret: 'SMARTCAR_AMT' },
  dataspike: { profile: () => providers.dataspike(), secret: 'DATASPIKE_WEBHOOK_SECRET' },
};

/** The secret in `name`, and during a rotation the previous one in `name_PREVIOUS`. */
function fromEnv(name: string): SecretVersion[] {
  const current = process.env[name];
  const previous = process.env[`${name}_PREVIOUS`];
  if (current === undefined) throw new Error(`Set ${name} (the webhook signing secret)`);
  return [
    { id: `${name}:current`, secret: current, role: 'active' },
    ...(previous === undefined ? [] : [{ id: `${name}:previous`, secret: previous, role: 'previous' as const }]),
  ];
}

const made = new Map<string, Verifier>();

/** The verifier for `provider` (`smartcar`, `dataspike`), or `undefined` for a provider we do not receive from. */
export function verifierFor(provider: string): Verifier | undefined {
  if (!Object.hasOwn(PROFILES, provider)) return undefined;
  let verifier = made.get(provider);
  if (verifier === undefined) {
    const { profile, secret } = PROFILES[provider]!;
    verifier = createVerifier({ provider: profile(), keys: fromEnv(secret) });
    made.set(provider, verifier);
  }
  return verifier;
}
