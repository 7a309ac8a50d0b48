import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultServerConditions, type Plugin } from 'vite';

// Workspace packages resolve to their TypeScript sources in tests (the private `@keyturn/source`
// export condition; a private name so a consumer's own `customConditions: ["source"]` never picks up
// keyturn's `.ts` files).
// Vite's `module` condition is left out: Node loads externalised dependencies natively, and some
// (the AWS SDK's `dist-es`) point `module` at files Node cannot load.
export const SOURCE_CONDITION = '@keyturn/source';
const conditions = [SOURCE_CONDITION, ...defaultServerConditions.filter((c) => c !== 'module')];

/**
 * Runs the suites against other versions of peer dependencies (scripts/peer-ends.mjs: the lowest end
 * of each cloud SDK's peer range) without touching the workspace install: with
 * `KEYTURN_PEER_DIR=<dir>` (a directory where npm installed them) and `KEYTURN_PEER_PACKAGES=a,b`,
 * every import of those packages, from sources and tests, resolves inside `<dir>/node_modules`, and
 * their own dependencies come from there too. Each resolution is appended to `KEYTURN_PEER_LOG`, so
 * the script can check the override was really used.
 */
function peerOverride(): Plugin[] {
  const dir = process.env['KEYTURN_PEER_DIR'];
  const names = (process.env['KEYTURN_PEER_PACKAGES'] ?? '').split(',').filter(Boolean);
  if (!dir || names.length === 0) return [];
  // Vite resolves a bare import from its importer's directory only if the importer exists.
  const importer = join(dir, 'node_modules', '.keyturn-peer-importer.js');
  if (!existsSync(importer)) writeFileSync(importer, '// resolution anchor for vitest.shared.ts peerOverride\n');
  const log = process.env['KEYTURN_PEER_LOG'];
  return [
    {
      name: 'keyturn-peer-override',
      enforce: 'pre',
      async resolveId(source, from, options) {
        const name = names.find((n) => source === n || source.startsWith(`${n}/`));
        if (name === undefined || from === importer) return null;
        const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
        if (resolved === null) throw new Error(`peer override: cannot resolve ${source} in ${dir}`);
        if (log) appendFileSync(log, `${name}\t${resolved.id}\t${from ?? ''}\n`);
        return resolved;
      },
    },
  ];
}

/** Resolution settings every package's vitest project spreads into its config. */
export const sourceConditions = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: [SOURCE_CONDITION] } },
  plugins: peerOverride(),
};

/** Test env for projects that load the AWS SDK (it warns once per process that 2027 releases need Node 22). */
export const awsSdkTestEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
