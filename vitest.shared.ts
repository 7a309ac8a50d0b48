import { defaultServerConditions } from 'vite';

/** Workspace packages resolve to their TypeScript sources in tests (the `source` export condition). */
export const sourceConditions = {
  resolve: { conditions: ['source', ...defaultServerConditions] },
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions], externalConditions: ['source'] } },
};
