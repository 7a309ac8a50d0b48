import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.ts';

// The AWS SDK's `module` export condition points at `dist-es`, whose extensionless relative imports
// Node cannot load natively; drop `module` so externalised SDK packages resolve to `dist-cjs`.
const withoutModule = (conditions: string[]) => conditions.filter((c) => c !== 'module');

export default defineProject({
  ...sourceConditions,
  resolve: { conditions: withoutModule(sourceConditions.resolve.conditions) },
  ssr: {
    resolve: {
      conditions: withoutModule(sourceConditions.ssr.resolve.conditions),
      externalConditions: sourceConditions.ssr.resolve.externalConditions,
    },
  },
  test: {
    name: 'store-aws',
    include: ['test/**/*.test.ts'],
    // The SDK warns once per process that releases after January 2027 need Node 22.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
