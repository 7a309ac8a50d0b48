/**
 * `@keyturn/cli`: the `keyturn` command line, also callable in-process (`main(argv, io)`).
 *
 * @module
 */
export { main, nodeIo } from './main.ts';
export { EXIT, type ExitCodes, verificationExitCode, rotationExitCode, parseDuration, UsageError, type CliIo } from './common.ts';
