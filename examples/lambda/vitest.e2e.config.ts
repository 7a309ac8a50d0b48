import { defineProject } from 'vitest/config';
import { awsSdkTestEnv } from '../../vitest.shared.ts';

// serverless-offline (Serverless Framework v3, from scripts/aws-emulators.mjs) serves src/handler.mjs
// over real HTTP; the handler resolves @keyturn/* to their built dist (`pnpm build` first).
export default defineProject({
  test: { name: 'example-lambda-e2e', include: ['test/**/*.e2e.test.ts'], env: awsSdkTestEnv, testTimeout: 120_000, hookTimeout: 180_000 },
});
