/**
 * The drill's sender, as Dataspike behaves: it signs every attempt with the secret it holds **now**
 * (so it switches the instant its rotate API answers, before the store write lands), spreads
 * deliveries round-robin over the receivers, and retries a 5xx or a dropped connection after 1 s.
 * 2xx is accepted, 409 an acknowledged duplicate (replay defence), 401 a rejection (must never happen).
 */
import { Agent, request } from 'node:http';

/** One delivery and what happened to it. */
export interface Delivery {
  readonly id: string;
  readonly body: string;
  /** Signed with the old secret on purpose (a straggler still on it). */
  readonly old: boolean;
  attempts: number;
  statuses: number[];
  outcome: 'pending' | 'accepted' | 'duplicate' | 'rejected-401' | 'rejected' | 'gave-up';
  /** A 503 came before the acceptance. */
  after503: boolean;
  /** When the accepted attempt was sent (its signature's match happened after). */
  acceptedSentAt: number | undefined;
  /** When its answer arrived (the match happened before). */
  acceptedAt: number | undefined;
}

/** Signs a body: the headers Dataspike would send now (with the current or the old secret). */
export type Signer = (body: string, old: boolean) => Record<string, string>;

export interface SenderOptions {
  readonly ports: readonly number[];
  readonly rate: number;
  readonly sign: Signer;
  /** Whether the next new delivery is a straggler (signed with the old secret). */
  readonly straggler: (elapsedMs: number) => boolean;
  readonly retryDelayMs?: number;
  readonly maxAttempts?: number;
}

export interface Sender {
  readonly deliveries: readonly Delivery[];
  /** Stops creating deliveries (retries go on). */
  stop(): void;
  /** Resolves when every delivery has an outcome. */
  drained(timeoutMs: number): Promise<boolean>;
  close(): void;
}

export function startSender(options: SenderOptions): Sender {
  const agents = options.ports.map(() => new Agent({ keepAlive: true, maxSockets: 96 }));
  const deliveries: Delivery[] = [];
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const maxAttempts = options.maxAttempts ?? 120;
  const started = Date.now();
  let next = 0;
  let sending = true;
  let pendingCount = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();

  function attempt(d: Delivery): void {
    const i = next++ % options.ports.length;
    d.attempts++;
    const sentAt = Date.now();
    const headers = {
      ...options.sign(d.body, d.old),
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(d.body)),
    };
    const req = request(
      {
        host: '127.0.0.1',
        port: options.ports[i],
        method: 'POST',
        path: '/webhooks/dataspike',
        headers,
        agent: agents[i],
        timeout: 15_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => settle(d, res.statusCode ?? 0, sentAt));
        res.on('error', () => settle(d, 0, sentAt));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => settle(d, 0, sentAt));
    req.end(d.body);
  }

  function settle(d: Delivery, status: number, sentAt: number): void {
    if (d.outcome !== 'pending' || d.statuses.length >= d.attempts) return; // a late second event of one attempt
    d.statuses.push(status);
    if (status >= 200 && status < 300) return finish(d, 'accepted', sentAt);
    if (status === 409) return finish(d, 'duplicate', sentAt);
    if (status === 401) return finish(d, 'rejected-401');
    if (status !== 0 && status < 500) return finish(d, 'rejected');
    if (status === 503) d.after503 = true;
    if (d.attempts >= maxAttempts) return finish(d, 'gave-up');
    const t = setTimeout(() => {
      timers.delete(t);
      attempt(d);
    }, retryDelayMs);
    timers.add(t);
  }

  function finish(d: Delivery, outcome: Delivery['outcome'], sentAt?: number): void {
    d.outcome = outcome;
    if (outcome === 'accepted') {
      d.acceptedSentAt = sentAt;
      d.acceptedAt = Date.now();
    }
    pendingCount--;
  }

  let created = 0;
  const tick = setInterval(() => {
    if (!sending) return;
    const due = Math.floor(((Date.now() - started) * options.rate) / 1_000);
    while (created < due) {
      const n = created++;
      const body = JSON.stringify({
        id: `evt_${n}`,
        type: 'check.completed',
        data: { applicant_id: `app_${n % 977}`, status: 'verified' },
      });
      const d: Delivery = {
        id: `evt_${n}`,
        body,
        old: options.straggler(Date.now() - started),
        attempts: 0,
        statuses: [],
        outcome: 'pending',
        after503: false,
        acceptedSentAt: undefined,
        acceptedAt: undefined,
      };
      deliveries.push(d);
      pendingCount++;
      attempt(d);
    }
  }, 5);

  return {
    deliveries,
    stop() {
      sending = false;
      clearInterval(tick);
    },
    async drained(timeoutMs) {
      const end = Date.now() + timeoutMs;
      while (pendingCount > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      return pendingCount === 0;
    },
    close() {
      clearInterval(tick);
      for (const t of timers) clearTimeout(t);
      for (const a of agents) a.destroy();
    },
  };
}
