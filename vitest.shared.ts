import { defaultServerConditions } from 'vite';

// Workspace packages resolve to their TypeScript sources in tests (the private `@keyturn/source`
// export condition; a private name so a consumer's own `customConditions: ["source"]` never picks up
// keyturn's `.ts` files).
// Vite's `module` condition is left out: Node loads externalised dependencies natively, and some
// (the AWS SDK's `dist-es`) point `module` at files Node cannot load.
export const SOURCE_CONDITION = '@keyturn/source';
const conditions = [SOURCE_CONDITION, ...defaultServerConditions.filter((c) => c !== 'module')];

/** Resolution settings every package's vitest project spreads into its config. */
export const sourceConditions = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: [SOURCE_CONDITION] } },
};

/** Test env for projects that load the AWS SDK (it warns once per process that 2027 releases need Node 22). */
export const awsSdkTestEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
