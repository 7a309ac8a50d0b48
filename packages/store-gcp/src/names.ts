/**
 * Secret names: `projects/P/secrets/S`, regional `projects/P/locations/L/secrets/S`, or a short
 * name with a default project.
 *
 * @module
 */

/** A resolved secret name. */
export interface SecretRef {
  /** Full resource name: `projects/P/secrets/S` or `projects/P/locations/L/secrets/S`. */
  readonly name: string;
  /** Project id or number. */
  readonly project: string;
  /** Location of a regional secret; `undefined` for a global one. */
  readonly location: string | undefined;
  /** Secret id. */
  readonly secret: string;
}

const PROJECT = '[A-Za-z0-9][A-Za-z0-9.:_-]{0,99}';
const LOCATION = '[a-z0-9][a-z0-9-]{0,62}';
const SECRET = '[A-Za-z0-9_-]{1,255}';
const FULL = new RegExp(`^projects/(${PROJECT})/(?:locations/(${LOCATION})/)?secrets/(${SECRET})$`);
const SHORT = new RegExp(`^${SECRET}$`);

/**
 * Resolves a secret id to its resource name, or returns a reason it is invalid.
 *
 * @example
 * ```ts
 * resolveSecretName('webhook', 'my-project'); // { name: 'projects/my-project/secrets/webhook', ... }
 * resolveSecretName('projects/p/locations/europe-west1/secrets/webhook'); // regional
 * ```
 */
export function resolveSecretName(secretId: string, projectId?: string): SecretRef | string {
  if (typeof secretId !== 'string' || secretId.length === 0) return 'the secret id must be a non-empty string';
  const full = FULL.exec(secretId);
  if (full !== null) {
    return { name: secretId, project: full[1] as string, location: full[2], secret: full[3] as string };
  }
  if (secretId.includes('/versions/')) {
    return 'name a secret, not a version (keyturn chooses the versions: drop "/versions/..." from the secret id)';
  }
  if (SHORT.test(secretId)) {
    if (projectId === undefined || projectId === '') {
      return `"${secretId}" is a short secret name: pass projectId to gcpSecretManagerStore() or use projects/<project>/secrets/${secretId}`;
    }
    if (!new RegExp(`^${PROJECT}$`).test(projectId)) return 'projectId is not a valid project id or number';
    return { name: `projects/${projectId}/secrets/${secretId}`, project: projectId, location: undefined, secret: secretId };
  }
  return 'expected projects/<project>/secrets/<secret>, projects/<project>/locations/<location>/secrets/<secret> or a short secret name';
}

/** The regional endpoint of Secret Manager for a location (`secretmanager.L.rep.googleapis.com`). */
export function regionalEndpoint(location: string): string {
  return `secretmanager.${location}.rep.googleapis.com`;
}

/**
 * Client options for a location: adds the regional `apiEndpoint` unless the caller already set an
 * endpoint (`apiEndpoint` or `servicePath`).
 */
export function clientOptionsFor(
  location: string | undefined,
  base: Readonly<Record<string, unknown>>,
  projectId?: string,
): Record<string, unknown> {
  const options: Record<string, unknown> = { ...base };
  if (projectId !== undefined && options.projectId === undefined) options.projectId = projectId;
  if (location !== undefined && options.apiEndpoint === undefined && options.servicePath === undefined) {
    options.apiEndpoint = regionalEndpoint(location);
  }
  return options;
}
