import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.ts';

// The route handlers, called in process (quick). The real `next build` + `next start` run is
// vitest.e2e.config.ts (CI only: .ci/run).
export default defineProject({ ...sourceConditions, test: { name: 'example-nextjs', include: ['test/**/*.test.ts'] } });
