import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.ts';

export default defineProject({ ...sourceConditions, test: { name: 'example-adapters', include: ['test/**/*.test.ts'] } });
