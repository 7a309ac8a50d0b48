import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.ts';

export default defineProject({
  ...sourceConditions,
  test: {
    name: 'store-azure',
    include: ['test/**/*.test.ts'],
    // Every test runs real HTTPS round trips (TLS, challenge, token): give them room on a loaded machine.
    testTimeout: 20_000,
  },
});
