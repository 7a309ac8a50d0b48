/**
 * `keyturn` argument parsing, help and dispatch.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  challengeSmartcarCommand,
  keysAddCommand,
  keysListCommand,
  keysRetireCommand,
  reportError,
  rotateDataspikeCommand,
  signCommand,
  statusCommand,
  verifyCommand,
} from './commands.ts';
import { EXIT, STORE_FLAGS, STORE_HELP, UsageError, type CliIo } from './common.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

interface CommandSpec {
  summary: string;
  usage: string;
  options: Options;
  run: (io: CliIo, values: Record<string, unknown>) => Promise<number>;
}

const COMMON: Options = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
};

const SECRET_FLAGS: Options = { 'secret-env': { type: 'string' }, 'secret-file': { type: 'string' } };
const USAGE_FLAGS: Options = {
  usage: { type: 'string', multiple: true },
  'usage-url': { type: 'string', multiple: true },
  'usage-auth-env': { type: 'string' },
  'usage-auth-file': { type: 'string' },
  'usage-auth-header': { type: 'string' },
  quiet: { type: 'string' },
  provider: { type: 'string' },
};

const USAGE_URL_HELP = `  --usage-url URL            Fetch a snapshot from an instance's admin endpoint (repeatable)
  --usage-auth-env NAME      Send the value of environment variable NAME as the auth header of --usage-url
  --usage-auth-file PATH     ... or the content of PATH (one trailing newline dropped); never on the command line
  --usage-auth-header NAME   The header it goes in (default Authorization; e.g. X-Admin-Token)`;

const SECRET_HELP = `Secret (never on the command line):
  --secret-env NAME          Read the secret from environment variable NAME
  --secret-file PATH         Read it from a file (one trailing newline is dropped)`;

const OUTPUT_HELP = `Output:
  --json                     Machine-readable output
  --no-progress              No progress lines on stderr
  -h, --help                 This help`;

const COMMANDS: Record<string, CommandSpec> = {
  sign: {
    summary: 'Print the signature headers a provider would send for a body',
    usage: `keyturn sign --provider NAME --secret-env NAME [--body-file FILE] [--timestamp UNIX] [--id ID]

Reads the body from --body-file or stdin and prints "Header: value" lines (curl -H ready).

${SECRET_HELP}
  --provider NAME            smartcar, dataspike, mobway, standard-webhooks, stripe, github, shopify, slack
  --body-file FILE           Body to sign (default: stdin)
  --timestamp UNIX           Signed timestamp for timestamped schemes (default: now)
  --id ID                    Message id for schemes that sign one
${OUTPUT_HELP}`,
    options: { ...SECRET_FLAGS, provider: { type: 'string' }, 'body-file': { type: 'string' }, timestamp: { type: 'string' }, id: { type: 'string' } },
    run: signCommand,
  },
  verify: {
    summary: 'Verify a webhook body and headers; the exit code names the error',
    usage: `keyturn verify --provider NAME (--secret-env NAME | --store-file PATH --secret-id ID) -H "Name: value" ... [--body-file FILE]

Reads the body from --body-file or stdin. Exit 0 when it verifies, else the code's exit status
(MISSING_SIGNATURE 10, MALFORMED_SIGNATURE 11, TIMESTAMP_TOO_OLD 12, TIMESTAMP_IN_FUTURE 13,
NO_MATCHING_KEY 14, KEY_EXPIRED 15, NO_KEYS 16, KEYSTORE_UNAVAILABLE 17, REPLAYED 18, BODY_NOT_RAW 19,
INVALID_SECRET 20, KEYSTORE_MISCONFIGURED 21, COLD_LOAD_LIMITED 22, INVALID_INPUT 23,
KEY_ROTATION_IN_PROGRESS 24).

${SECRET_HELP}
  --previous-secret-env NAME / --previous-secret-file PATH   A previous key as well
  -H, --header "Name: value" Request header (repeatable)
  --body-file FILE           Body (default: stdin)
  --now MS                   Verify as of this epoch-ms instant
  --provider NAME            smartcar, dataspike, mobway, standard-webhooks, stripe, github, shopify, slack
${STORE_HELP}
${OUTPUT_HELP}`,
    options: {
      ...SECRET_FLAGS,
      ...STORE_FLAGS,
      'secret-id': { type: 'string' },
      'previous-secret-env': { type: 'string' },
      'previous-secret-file': { type: 'string' },
      provider: { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
      'body-file': { type: 'string' },
      now: { type: 'string' },
    },
    run: verifyCommand,
  },
  'keys list': {
    summary: 'List the key versions of a secret (ids, roles, windows; never secrets)',
    usage: `keyturn keys list --store-file PATH --secret-id ID

${STORE_HELP}
${OUTPUT_HELP}`,
    options: { ...STORE_FLAGS, 'secret-id': { type: 'string' } },
    run: keysListCommand,
  },
  'keys add': {
    summary: 'Make a new key active; the old active stays accepted as previous for --grace',
    usage: `keyturn keys add --store-file PATH --secret-id ID --secret-file FILE [--grace 24h]

Idempotent: adding the key that is already active changes nothing. Also finishes a Dataspike
rotation from its recovery file.

${SECRET_HELP}
  --grace DURATION           How long the old key stays accepted (default 24h; 90s, 15m, 2d, 500ms)
${STORE_HELP}
${OUTPUT_HELP}`,
    options: { ...SECRET_FLAGS, ...STORE_FLAGS, 'secret-id': { type: 'string' }, grace: { type: 'string' } },
    run: keysAddCommand,
  },
  'keys retire': {
    summary: 'Remove the previous key once the readiness verdict says it is safe',
    usage: `keyturn keys retire --store-file PATH --secret-id ID (--usage FILE | --usage-url URL)... [--key-id ID] [--force]

${STORE_HELP}
  --usage FILE               A usage snapshot (JSON from usageSnapshot(); repeat per instance; - = stdin)
${USAGE_URL_HELP}
  --provider NAME            Use that provider's recommended quiet period
  --quiet DURATION           Required silence of the previous key (default 24h)
  --key-id ID                Retire only if the previous key is still this one
  --force                    Retire without checking usage
${OUTPUT_HELP}`,
    options: { ...STORE_FLAGS, ...USAGE_FLAGS, 'secret-id': { type: 'string' }, 'key-id': { type: 'string' }, force: { type: 'boolean' } },
    run: keysRetireCommand,
  },
  'rotate dataspike': {
    summary: "Rotate a Dataspike webhook secret and store the new one (never lost)",
    usage: `keyturn rotate dataspike --webhook-id UUID --store-file PATH --secret-id ID [--grace 24h] [--sandbox | --base-url URL]

Calls Dataspike's rotate endpoint, saves the new secret to a 0600 recovery file first, writes it
to the store as active (old one previous for --grace, retried with backoff), then deletes the
recovery file. If the store write fails, the file stays and the exact command to finish is printed.

  --webhook-id UUID          The Dataspike webhook
  --api-key-env NAME         Environment variable with the API key (default DATASPIKE_API_KEY)
  --api-key-file PATH        File with the API key
  --sandbox                  Use https://sandboxapi.dataspike.io
  --base-url URL             Any API base URL (default https://api.dataspike.io)
  --grace DURATION           How long the old secret stays accepted (default 24h)
  --recovery-file PATH       Where the new secret is saved until the store has it (0600, must not exist)
  --keep-recovery-file       Keep it after success
${STORE_HELP}
${OUTPUT_HELP}`,
    options: {
      ...STORE_FLAGS,
      'secret-id': { type: 'string' },
      'webhook-id': { type: 'string' },
      'api-key-env': { type: 'string' },
      'api-key-file': { type: 'string' },
      sandbox: { type: 'boolean' },
      'base-url': { type: 'string' },
      grace: { type: 'string' },
      'recovery-file': { type: 'string' },
      'keep-recovery-file': { type: 'boolean' },
    },
    run: rotateDataspikeCommand,
  },
  'challenge smartcar': {
    summary: 'Answer a Smartcar VERIFY challenge with the active management token',
    usage: `keyturn challenge smartcar (--challenge STRING | --payload-file FILE | stdin) (--secret-env NAME | --store-file PATH --secret-id ID)

Prints {"challenge":"<hex HMAC-SHA256>"}, the body a receiver answers VERIFY with.

  --challenge STRING         The challenge string
  --payload-file FILE        The VERIFY payload (JSON; default: stdin)
${SECRET_HELP}
${STORE_HELP}
${OUTPUT_HELP}`,
    options: { ...SECRET_FLAGS, ...STORE_FLAGS, 'secret-id': { type: 'string' }, challenge: { type: 'string' }, 'payload-file': { type: 'string' } },
    run: challengeSmartcarCommand,
  },
  status: {
    summary: 'Keys with role, window, matches and last match, and the verdict: previous key safe to retire?',
    usage: `keyturn status --store-file PATH --secret-id ID [--usage FILE]... [--usage-url URL]... [--provider NAME | --quiet 24h] [--check]

Roles and windows come from the store; matches from usage snapshots of your instances (merged).
--check exits 3 unless the previous key is safe to retire. A --usage-url that cannot be used exits
35 (unreachable), 36 (HTTP 401/403), 37 (other HTTP error or redirect) or 38 (not a usage snapshot).

${STORE_HELP}
  --usage FILE               A usage snapshot (JSON from usageSnapshot(); repeatable; - = stdin)
${USAGE_URL_HELP}
  --provider NAME            Use that provider's recommended quiet period (dataspike 15m, smartcar 1h)
  --quiet DURATION           Required silence of the previous key (default 24h)
  --check                    Exit 3 when not safe
${OUTPUT_HELP}`,
    options: { ...STORE_FLAGS, ...USAGE_FLAGS, 'secret-id': { type: 'string' }, check: { type: 'boolean' } },
    run: statusCommand,
  },
};

const VERSION = '0.1.0';

function mainHelp(): string {
  const lines = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(20)}${spec.summary}`);
  return `keyturn ${VERSION}: verify signed webhooks while their secrets rotate

Usage: keyturn <command> [flags]     keyturn <command> --help

Commands:
${lines.join('\n')}

Secrets come from environment variables or files, never from the command line.
The env-file store is --store-file PATH (not --env-file: Node reads that flag itself).
Exit codes: 0 ok, 1 error, 2 usage, 3 not safe to retire, 10-24 verification codes,
30 store write failed (recovery file kept), 31 provider rotate failed (nothing changed), 32 store error,
33 store cannot do that, 34 the provider may have rotated (answer lost: rotate again),
35-38 --usage-url unreachable / refused (401, 403) / HTTP error / not a usage snapshot.
`;
}

/**
 * Runs `keyturn` with `argv` (without `node` and the script) and returns the exit code.
 *
 * @example
 * ```ts
 * const code = await main(['status', '--store-file', '.env', '--secret-id', 'DS'], nodeIo());
 * ```
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    const topic = first === 'help' ? argv.slice(1).join(' ') : '';
    const spec = COMMANDS[topic];
    io.stdout(spec !== undefined ? `${spec.summary}\n\n${spec.usage}\n` : mainHelp());
    return first === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (first === '--version' || first === '-v') {
    io.stdout(`${VERSION}\n`);
    return EXIT.OK;
  }
  let name = first;
  let rest = argv.slice(1);
  if (COMMANDS[first] === undefined && second !== undefined && COMMANDS[`${first} ${second}`] !== undefined) {
    name = `${first} ${second}`;
    rest = argv.slice(2);
  }
  const spec = COMMANDS[name];
  const nodeFlag = rest.find((a) => a === '--env-file' || a.startsWith('--env-file='));
  if (nodeFlag !== undefined && spec !== undefined) {
    // When keyturn runs as a process, Node has already read that file (and would have exited 9 had it
    // been missing): the flag can never be keyturn's. Refuse it with the name to use instead.
    io.stderr(
      `error: --env-file is Node.js's own option, and Node reads that file itself before keyturn starts ` +
        `(it exits with "not found" when the file is missing, and applies a NODE_OPTIONS line in it). ` +
        `keyturn's flag for the env file is --store-file PATH (run \`keyturn ${name} --help\`).\n`,
    );
    return EXIT.USAGE;
  }
  if (spec === undefined) {
    const group = Object.keys(COMMANDS).filter((k) => k.startsWith(`${first} `));
    io.stderr(
      group.length > 0
        ? `error: "${first}" needs a subcommand: ${group.map((g) => g.split(' ')[1]).join(', ')}\n`
        : `error: unknown command "${first}"\n\n${mainHelp()}`,
    );
    return EXIT.USAGE;
  }
  let values: Record<string, unknown>;
  try {
    const parsed = parseArgs({ args: [...rest], options: { ...COMMON, ...spec.options }, strict: true, allowPositionals: false });
    values = parsed.values as Record<string, unknown>;
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n\n${spec.usage}\n`);
    return EXIT.USAGE;
  }
  if (values['help'] === true) {
    io.stdout(`${spec.summary}\n\n${spec.usage}\n`);
    return EXIT.OK;
  }
  values['progress'] = values['no-progress'] !== true;
  try {
    return await spec.run(io, values);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`error: ${err.message}\n\n${spec.usage}\n`);
      return EXIT.USAGE;
    }
    return reportError(io, err);
  }
}

/** The I/O of a real process. */
export function nodeIo(): CliIo {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    readStdin: async () => {
      if (process.stdin.isTTY) throw new UsageError('no body: pass --body-file FILE or pipe it on stdin');
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
  };
}
