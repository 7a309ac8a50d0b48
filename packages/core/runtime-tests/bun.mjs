// Bun entry: Bun resolves @keyturn/core with its own conditions ("bun", then "node", ...).
import * as core from '@keyturn/core';
import * as fetchAdapter from '@keyturn/core/adapters/fetch';
import * as honoAdapter from '@keyturn/core/adapters/hono';
import { Hono } from 'hono';
import { createApp } from './app.mjs';
import { loadVectors, cryptoBackend } from './load.mjs';

const app = createApp({ core, fetchAdapter, honoAdapter, Hono, crypto: await cryptoBackend(), vectors: await loadVectors() });
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app });
console.log(`LISTENING ${server.port}`);
