// Node entry: the built package resolved with Node's own conditions ("node", "import"), served on
// node:http through a streaming Request bridge (what Node hosts of the Fetch adapter do).
import * as core from '@keyturn/core';
import * as fetchAdapter from '@keyturn/core/adapters/fetch';
import * as honoAdapter from '@keyturn/core/adapters/hono';
import { Hono } from 'hono';
import { createApp } from './app.mjs';
import { loadVectors, cryptoBackend } from './load.mjs';
import { fetchServer } from './node-bridge.mjs';

const app = createApp({ core, fetchAdapter, honoAdapter, Hono, crypto: await cryptoBackend(), vectors: await loadVectors() });
const server = fetchServer(app);
server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${server.address().port}`));
