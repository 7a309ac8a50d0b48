#!/usr/bin/env node
/**
 * The `keyturn` executable.
 *
 * @module
 */
import { main, nodeIo } from './main.ts';

process.exitCode = await main(process.argv.slice(2), nodeIo());
