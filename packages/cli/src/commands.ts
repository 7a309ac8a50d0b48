/**
 * The `keyturn` commands. Each takes parsed flag values and the I/O and returns an exit code.
 *
 * @module
 */
export { challengeSmartcarCommand, signCommand, verifyCommand } from './commands/verify.ts';
export { keysAddCommand, keysListCommand, keysRetireCommand, statusCommand } from './commands/keys.ts';
export { rotateDataspikeCommand } from './commands/rotate.ts';
export { PROVIDER_NAMES, reportError } from './commands/shared.ts';
