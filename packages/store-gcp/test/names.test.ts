import { describe, expect, it } from 'vitest';
import { clientOptionsFor, regionalEndpoint, resolveSecretName } from '../src/names.ts';

describe('secret names', () => {
  it('resolves global, regional and short names', () => {
    expect(resolveSecretName('projects/p1/secrets/webhook')).toEqual({
      name: 'projects/p1/secrets/webhook',
      project: 'p1',
      location: undefined,
      secret: 'webhook',
    });
    expect(resolveSecretName('projects/123/locations/europe-west1/secrets/w_1')).toEqual({
      name: 'projects/123/locations/europe-west1/secrets/w_1',
      project: '123',
      location: 'europe-west1',
      secret: 'w_1',
    });
    expect(resolveSecretName('webhook', 'my-project')).toMatchObject({ name: 'projects/my-project/secrets/webhook' });
  });

  it('explains what is wrong with a bad name', () => {
    expect(resolveSecretName('webhook')).toMatch(/projectId/);
    expect(resolveSecretName('projects/p/secrets/s/versions/3')).toMatch(/not a version/);
    expect(resolveSecretName('projects/p/secrets/s/../x')).toMatch(/expected/);
    expect(resolveSecretName('')).toMatch(/non-empty/);
    expect(resolveSecretName('a b', 'p')).toMatch(/expected/);
  });

  it('derives the regional endpoint unless one is configured', () => {
    expect(regionalEndpoint('us-east4')).toBe('secretmanager.us-east4.rep.googleapis.com');
    expect(clientOptionsFor('us-east4', {}, 'p')).toEqual({ apiEndpoint: 'secretmanager.us-east4.rep.googleapis.com', projectId: 'p' });
    expect(clientOptionsFor('us-east4', { apiEndpoint: '127.0.0.1' })).toEqual({ apiEndpoint: '127.0.0.1' });
    expect(clientOptionsFor(undefined, { fallback: true })).toEqual({ fallback: true });
  });
});
