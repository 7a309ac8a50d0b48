// Two independent DynamoDB implementations on 127.0.0.1 for the real @aws-sdk/client-dynamodb to talk
// to: dynalite (npm, in memory) and, where java and the pinned npm package are available, Amazon's
// DynamoDB Local (scripts/aws-emulators.mjs). A small HTTP proxy in front of either injects the faults
// a real table shows: throttling, answers that never come (before or after the write landed).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { tableDefinition, timeToLiveDefinition } from '../src/index.ts';
// @ts-expect-error -- plain ESM helper without type declarations
import { dynamodbLocal } from '../../../scripts/aws-emulators.mjs';

export interface Backend {
  readonly name: string;
  readonly endpoint: string;
  close(): Promise<void>;
}

const listen = (server: Server) =>
  new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

export async function startDynalite(): Promise<Backend> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  const port = await listen(server);
  return {
    name: 'dynalite',
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Why DynamoDB Local cannot run here, or undefined when it can. */
export function dynamodbLocalMissing(): string | undefined {
  const d = dynamodbLocal() as { jar?: string; why?: string };
  return d.jar === undefined ? d.why : undefined;
}

export async function startDynamoDbLocal(): Promise<Backend> {
  const d = dynamodbLocal() as { java: string; jar: string; lib: string };
  const probe = createServer();
  const port = await listen(probe);
  await new Promise<void>((r) => probe.close(() => r()));
  const child: ChildProcess = spawn(
    d.java,
    [`-Djava.library.path=${d.lib}`, '-Xmx256m', '-jar', d.jar, '-inMemory', '-disableTelemetry', '-port', String(port)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited: ${out}`);
    const up = await fetch(endpoint, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' }, body: '{}' }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`DynamoDB Local did not start within 30 s: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: 'dynamodb-local',
    endpoint,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A client of `endpoint` (SDK retries: `maxAttempts`). */
export function clientOf(endpoint: string, maxAttempts = 3): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts,
    retryStrategy: undefined,
  });
}

let tables = 0;
/** Creates a fresh keyturn table (TTL on) and returns its name. */
export async function freshTable(client: DynamoDBClient): Promise<string> {
  const name = `keyturn-test-${process.pid}-${++tables}`;
  await client.send(new CreateTableCommand(tableDefinition(name)));
  await client.send(new UpdateTimeToLiveCommand(timeToLiveDefinition(name))).catch(() => undefined);
  return name;
}

/** What the proxy does to the next matching calls. */
export type Fault =
  /** Answer 400 ProvisionedThroughputExceededException without forwarding. */
  | 'throttle'
  /** Forward (the write lands), then answer ProvisionedThroughputExceededException: the SDK retries. */
  | 'throttle-after'
  /** Forward (the write lands), never answer. */
  | 'hang-after'
  /** Never forward, never answer. */
  | 'hang-before'
  /** Answer 500 InternalServerError without forwarding. */
  | 'error';

export interface FaultProxy {
  readonly endpoint: string;
  /** The next `count` calls of `operation` (`PutItem`, `UpdateItem`, ..., or `*`) get `fault`. */
  fault(operation: string, fault: Fault, count?: number): void;
  /** Calls seen per operation (forwarded or not). */
  readonly calls: Record<string, number>;
  /** Releases every held request (they get no answer; their sockets are destroyed). */
  clear(): void;
  close(): Promise<void>;
}

const THROTTLED = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message: 'The level of configured provisioned throughput for the table was exceeded.',
});

export async function faultProxy(target: string): Promise<FaultProxy> {
  const faults: { operation: string; fault: Fault; left: number }[] = [];
  const held: IncomingMessage[] = [];
  const calls: Record<string, number> = {};
  const targetUrl = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const operation =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      calls[operation] = (calls[operation] ?? 0) + 1;
      const f = faults.find((x) => x.left > 0 && (x.operation === operation || x.operation === '*'));
      if (f !== undefined) f.left--;
      const fault = f?.fault;
      if (fault === 'throttle') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(THROTTLED);
        return;
      }
      if (fault === 'error') {
        res
          .writeHead(500, { 'content-type': 'application/x-amz-json-1.0' })
          .end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'boom' }));
        return;
      }
      if (fault === 'hang-before') {
        held.push(req);
        return;
      }
      const forward = httpRequest(
        { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            if (fault === 'hang-after') {
              held.push(req);
              return;
            }
            if (fault === 'throttle-after') {
              res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(THROTTLED);
              return;
            }
            res.writeHead(up.statusCode ?? 500, up.headers).end(Buffer.concat(body));
          });
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(Buffer.concat(chunks));
    });
  });
  const port = await listen(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    fault: (operation, fault, count = 1) => void faults.push({ operation, fault, left: count }),
    calls,
    clear() {
      faults.length = 0;
      for (const r of held.splice(0)) r.socket.destroy();
    },
    close() {
      faults.length = 0;
      for (const r of held.splice(0)) r.socket.destroy();
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
