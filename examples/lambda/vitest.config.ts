import { defineProject } from 'vitest/config';
import { awsSdkTestEnv, sourceConditions } from '../../vitest.shared.ts';

// The handler called in process with the AWS documentation's events, against dynalite (quick). The
// run over real HTTP through serverless-offline (API Gateway's event mapping) is vitest.e2e.config.ts
// (.ci/run only: it starts the Serverless Framework).
export default defineProject({
  ...sourceConditions,
  test: {
    name: 'example-lambda',
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.e2e.test.ts'],
    env: awsSdkTestEnv,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
