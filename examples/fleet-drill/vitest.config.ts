import { defineProject } from 'vitest/config';

// The drill's receivers run the built packages (dist) in their own processes, like the CLI it calls.
export default defineProject({
  test: { name: 'fleet-drill', include: ['test/**/*.test.ts'], testTimeout: 240_000, hookTimeout: 60_000 },
});
