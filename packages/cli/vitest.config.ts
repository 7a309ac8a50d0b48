import { defineProject } from 'vitest/config';
import { sourceConditions } from '../../vitest.shared.ts';

// As in store-aws: the AWS SDK's `module` condition points at `dist-es`, whose extensionless
// relative imports Node cannot load natively; drop `module` so the SDK resolves to `dist-cjs`.
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
    name: 'cli',
    include: ['test/**/*.test.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
