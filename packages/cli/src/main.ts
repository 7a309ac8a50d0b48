/**
 * `keyturn` argument parsing, help and dispatch.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import {
  challengeSmartcarCommand,
  keysAddCommand,
  keysListCommand,
  keysRetireCommand,
  PROVIDER_NAMES,
  reportError,
  rotateDataspikeCommand,
  signCommand,
  statusCommand,
  verifyCommand,
} from './commands.ts';
import type { CliIo } from './common.ts';
import { EXIT, exitCodeHelp, UsageError, verificationExitHelp } from './exit.ts';
import { DYNAMODB_GROUP } from './dynamodb.ts';
import { flagHelp, flagOptions, type FlagTable } from './flags.ts';
import { FLEET_GROUP } from './fleet.ts';
import { STORE_FLAGS, STORE_HELP } from './stores.ts';

interface CommandSpec {
  summary: string;
  /** The synopsis and what the command does. */
  intro: string;
  /** Flag groups, in help order: a title (or none) and a table. The parse options come from the same tables. */
  groups: ReadonlyArray<[title: string | undefined, flags: FlagTable] | 'store'>;
  run: (io: CliIo, values: Record<string, unknown>) => Promise<number>;
}

const OUTPUT: FlagTable = {
  json: { type: 'boolean', help: 'Machine-readable output' },
  'no-progress': { type: 'boolean', help: 'No progress lines on stderr' },
  help: { type: 'boolean', short: 'h', help: 'This help' },
};
const SECRET: FlagTable = {
  'secret-env': { type: 'string', arg: 'NAME', help: 'Read the secret from environment variable NAME' },
  'secret-file': { type: 'string', arg: 'PATH', help: 'Read it from a file (one trailing newline is dropped)' },
};
const SECRET_ID: FlagTable = { 'secret-id': { type: 'string', arg: 'ID', help: 'The secret (see Store)' } };
const PROVIDER: FlagTable = { provider: { type: 'string', arg: 'NAME', help: PROVIDER_NAMES } };
const GRACE: FlagTable = {
  grace: { type: 'string', arg: 'DURATION', help: 'How long the old key stays accepted (default 24h; 90s, 15m, 2d, 500ms)' },
};
const USAGE: FlagTable = {
  usage: { type: 'string', arg: 'FILE', multiple: true, help: 'A usage snapshot (JSON from usageSnapshot(); repeatable; - = stdin)' },
  'usage-url': { type: 'string', arg: 'URL', multiple: true, help: "Fetch a snapshot from an instance's admin endpoint (repeatable)" },
  'usage-auth-env': { type: 'string', arg: 'NAME', help: 'Send the value of environment variable NAME as the auth header of --usage-url' },
  'usage-auth-file': {
    type: 'string',
    arg: 'PATH',
    help: '... or the content of PATH (one trailing newline dropped); never on the command line',
  },
  'usage-auth-header': { type: 'string', arg: 'NAME', help: 'The header it goes in (default Authorization; e.g. X-Admin-Token)' },
  provider: { type: 'string', arg: 'NAME', help: "Use that provider's recommended quiet period (dataspike 15m, smartcar 1h)" },
  quiet: { type: 'string', arg: 'DURATION', help: 'Required silence of the previous key (default 24h)' },
};

const COMMANDS: Record<string, CommandSpec> = {
  sign: {
    summary: 'Print the signature headers a provider would send for a body',
    intro: `keyturn sign --provider NAME --secret-env NAME [--body-file FILE] [--timestamp UNIX] [--id ID]

Reads the body from --body-file or stdin and prints "Header: value" lines (curl -H ready).`,
    groups: [
      ['Secret (never on the command line):', SECRET],
      [
        undefined,
        {
          ...PROVIDER,
          'body-file': { type: 'string', arg: 'FILE', help: 'Body to sign (default: stdin)' },
          timestamp: { type: 'string', arg: 'UNIX', help: 'Signed timestamp for timestamped schemes (default: now)' },
          id: { type: 'string', arg: 'ID', help: 'Message id for schemes that sign one' },
        },
      ],
    ],
    run: signCommand,
  },
  verify: {
    summary: 'Verify a webhook body and headers; the exit code names the error',
    intro: `keyturn verify --provider NAME (--secret-env NAME | --store-file PATH --secret-id ID) -H "Name: value" ... [--body-file FILE]

Reads the body from --body-file or stdin. Exit 0 when it verifies, else the code's exit status
(${verificationExitHelp()}).`,
    groups: [
      ['Secret (never on the command line):', SECRET],
      [
        undefined,
        {
          'previous-secret-env': { type: 'string', arg: 'NAME', help: 'A previous key as well (or --previous-secret-file PATH)' },
          'previous-secret-file': { type: 'string', arg: 'PATH', help: 'A previous key, from a file' },
          header: { type: 'string', short: 'H', arg: '"Name: value"', multiple: true, help: 'Request header (repeatable)' },
          'body-file': { type: 'string', arg: 'FILE', help: 'Body (default: stdin)' },
          now: { type: 'string', arg: 'MS', help: 'Verify as of this epoch-ms instant' },
          ...PROVIDER,
          ...SECRET_ID,
        },
      ],
      'store',
    ],
    run: verifyCommand,
  },
  'keys list': {
    summary: 'List the key versions of a secret (ids, roles, windows; never secrets)',
    intro: 'keyturn keys list --store-file PATH --secret-id ID',
    groups: [[undefined, SECRET_ID], 'store'],
    run: keysListCommand,
  },
  'keys add': {
    summary: 'Make a new key active; the old active stays accepted as previous for --grace',
    intro: `keyturn keys add --store-file PATH --secret-id ID --secret-file FILE [--grace 24h] [--redis-url URL | --dynamodb-table TABLE]

Idempotent: adding the key that is already active changes nothing. Also finishes a Dataspike
rotation from its recovery file. With --redis-url, every instance reloads the key as soon as it is
written (a key-change notice). With --dynamodb-table, the secret's key-change marker is bumped
after the write: every container of the fleet reloads at its next poll (10 s by default).`,
    groups: [
      ['Secret (never on the command line):', SECRET],
      [undefined, { ...GRACE, ...SECRET_ID }],
      'store',
      FLEET_GROUP,
      DYNAMODB_GROUP,
    ],
    run: keysAddCommand,
  },
  'keys retire': {
    summary: 'Remove the previous key once the readiness verdict says it is safe',
    intro: `keyturn keys retire --store-file PATH --secret-id ID (--redis-url URL | --dynamodb-table TABLE | --usage FILE | --usage-url URL)... [--key-id ID] [--force]

With --redis-url or --dynamodb-table the fleet-wide ledger decides (every instance's matches); with
--redis-url every instance drops the retired key at once (a notice), with --dynamodb-table the
secret's key-change marker is bumped once the key is gone.`,
    groups: [
      [
        undefined,
        {
          ...SECRET_ID,
          ...USAGE,
          'key-id': { type: 'string', arg: 'ID', help: 'Retire only if the previous key is still this one' },
          force: { type: 'boolean', help: 'Retire without checking usage' },
        },
      ],
      'store',
      FLEET_GROUP,
      DYNAMODB_GROUP,
    ],
    run: keysRetireCommand,
  },
  'rotate dataspike': {
    summary: 'Rotate a Dataspike webhook secret and store the new one (never lost)',
    intro: `keyturn rotate dataspike --webhook-id UUID --store-file PATH --secret-id ID [--grace 24h] [--sandbox | --base-url URL]

Calls Dataspike's rotate endpoint, saves the new secret to a 0600 recovery file first, writes it
to the store as active (old one previous for --grace, retried with backoff), then deletes the
recovery file. If the store write fails, the file stays and the exact command to finish is printed.
With --redis-url, every instance of the fleet hears "rotation in progress" before the rotate call
(deliveries signed with the new secret before the store write are answered 503 and retried, never
401) and "key changed" right after the write. With --dynamodb-table, the secret's key-change marker holds a rotation fence from before the rotate
call (containers answer 503, retried, rather than 401) and is bumped right after the store write.
If the fleet cannot be told (Redis / DynamoDB unreachable), nothing is rotated and the exit code is
39; --allow-unfenced rotates anyway (deliveries racing the store write may then be answered 401).`,
    groups: [
      [
        undefined,
        {
          'webhook-id': { type: 'string', arg: 'UUID', help: 'The Dataspike webhook' },
          'api-key-env': { type: 'string', arg: 'NAME', help: 'Environment variable with the API key (default DATASPIKE_API_KEY)' },
          'api-key-file': { type: 'string', arg: 'PATH', help: 'File with the API key' },
          sandbox: { type: 'boolean', help: 'Use https://sandboxapi.dataspike.io' },
          'base-url': { type: 'string', arg: 'URL', help: 'Any API base URL (default https://api.dataspike.io)' },
          ...GRACE,
          'recovery-file': {
            type: 'string',
            arg: 'PATH',
            help: 'Where the new secret is saved until the store has it (0600, must not exist)',
          },
          'keep-recovery-file': { type: 'boolean', help: 'Keep it after success' },
          ...SECRET_ID,
        },
      ],
      'store',
      FLEET_GROUP,
      [
        undefined,
        {
          'fence-ttl': {
            type: 'string',
            arg: 'DURATION',
            help: 'How long the rotation fence stands unless the write ends it (default 2m)',
          },
          'allow-unfenced': {
            type: 'boolean',
            help: 'Rotate even when the fleet cannot hear the fence (default: refuse, exit 39)',
          },
        },
      ],
      DYNAMODB_GROUP,
    ],
    run: rotateDataspikeCommand,
  },
  'challenge smartcar': {
    summary: 'Answer a Smartcar VERIFY challenge with the active management token',
    intro: `keyturn challenge smartcar (--challenge STRING | --payload-file FILE | stdin) (--secret-env NAME | --store-file PATH --secret-id ID)

Prints {"challenge":"<hex HMAC-SHA256>"}, the body a receiver answers VERIFY with.`,
    groups: [
      [
        undefined,
        {
          challenge: { type: 'string', arg: 'STRING', help: 'The challenge string' },
          'payload-file': { type: 'string', arg: 'FILE', help: 'The VERIFY payload (JSON; default: stdin)' },
        },
      ],
      ['Secret (never on the command line):', SECRET],
      [undefined, SECRET_ID],
      'store',
    ],
    run: challengeSmartcarCommand,
  },
  status: {
    summary: 'Keys with role, window, matches and last match, and the verdict: previous key safe to retire?',
    intro: `keyturn status --store-file PATH --secret-id ID [--usage FILE]... [--usage-url URL]... [--provider NAME | --quiet 24h] [--check]
       keyturn status --redis-url URL --secret-id ID [--provider NAME | --quiet 2d] [--check]
       keyturn status --dynamodb-table TABLE --secret-id ID [--provider NAME | --quiet 24h] [--check]

Roles and windows come from the store; matches from usage snapshots of your instances (merged), or
with --redis-url / --dynamodb-table from the fleet's ledger (every instance, summed; with
--redis-url also a chart of matches per key per minute). Without store flags, a fleet's ledger
gives the roles and windows.
--check exits 3 unless the previous key is safe to retire. A --usage-url that cannot be used exits
35 (unreachable), 36 (HTTP 401/403), 37 (other HTTP error or redirect) or 38 (not a usage snapshot);
a --redis-url or --dynamodb-table that cannot be read exits 35.`,
    groups: [
      [undefined, { ...SECRET_ID, ...USAGE, check: { type: 'boolean', help: 'Exit 3 when not safe' } }],
      'store',
      FLEET_GROUP,
      [undefined, { chart: { type: 'string', arg: 'DURATION', help: "The chart's span, up to 24h (default 1h; 0 = no chart)" } }],
      DYNAMODB_GROUP,
    ],
    run: statusCommand,
  },
};

/** The help of one command, from its flag tables. */
function usageOf(spec: CommandSpec): string {
  const parts = [spec.intro, ''];
  for (const g of spec.groups) {
    if (g === 'store') parts.push(STORE_HELP);
    else parts.push(g[0] === undefined ? flagHelp(g[1]) : `${g[0]}\n${flagHelp(g[1])}`);
  }
  parts.push(`Output:\n${flagHelp(OUTPUT)}`);
  return parts.join('\n');
}

/** The parse options of one command, from the same tables. */
function optionsOf(spec: CommandSpec) {
  return flagOptions(OUTPUT, ...spec.groups.map((g) => (g === 'store' ? STORE_FLAGS : g[1])));
}

const VERSION = '0.1.0';

function mainHelp(): string {
  const lines = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(20)}${spec.summary}`);
  return `keyturn ${VERSION}: verify signed webhooks while their secrets rotate

Usage: keyturn <command> [flags]     keyturn <command> --help

Commands:
${lines.join('\n')}

Secrets come from environment variables or files, never from the command line.
The env-file store is --store-file PATH (not --env-file: Node reads that flag itself).
${exitCodeHelp()}
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
    io.stdout(spec !== undefined ? `${spec.summary}\n\n${usageOf(spec)}\n` : mainHelp());
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
    const parsed = parseArgs({ args: [...rest], options: optionsOf(spec), strict: true, allowPositionals: false });
    values = parsed.values as Record<string, unknown>;
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n\n${usageOf(spec)}\n`);
    return EXIT.USAGE;
  }
  if (values['help'] === true) {
    io.stdout(`${spec.summary}\n\n${usageOf(spec)}\n`);
    return EXIT.OK;
  }
  values['progress'] = values['no-progress'] !== true;
  try {
    return await spec.run(io, values);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`error: ${err.message}\n\n${usageOf(spec)}\n`);
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
