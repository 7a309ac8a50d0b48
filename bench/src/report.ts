/**
 * Targets and the markdown report.
 *
 * @module
 */
import type { AllocResult } from './alloc.ts';
import type { Quartiles } from './harness.ts';
import type { MachineInfo } from './machine.ts';

/** One case at one size. */
export interface CaseResult {
  readonly id: string;
  readonly group: string;
  readonly what: string;
  readonly floor: string;
  /** Median of the chunk medians, ns per operation. */
  readonly nsPerOp: number;
  /** Per-pair ratios to the floor: median and quartiles. */
  readonly ratio: Quartiles | undefined;
  /** Number of chunk pairs. */
  readonly pairs: number;
  readonly alloc: AllocResult | undefined;
}

/** One checked target. */
export interface Target {
  readonly size: number;
  readonly target: string;
  readonly measured: number | undefined;
  /** `NaN` for rows shown for information only. */
  readonly limit: number;
  readonly pass: boolean | undefined;
}

/** Everything a run produces (also the JSON file). */
export interface Results {
  machine: MachineInfo;
  options: Record<string, unknown>;
  startedAt: string;
  durationS?: number;
  loadavgEnd?: number[];
  sizes: Record<string, Record<string, CaseResult>>;
  targets: Target[];
  notes: string[];
}

const r2 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(2));

function fmtNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

function fmtOps(ns: number): string {
  const ops = 1e9 / ns;
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)} M`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)} k`;
  return ops.toFixed(0);
}

function fmtBytes(b: number | undefined): string {
  if (b === undefined) return '–';
  if (b >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${Math.round(b)} B`;
}

const sizeLabel = (size: number): string => (size % 1024 === 0 ? `${size / 1024} KiB` : `${size} B`);

/** The per-size limit for keyturn against its floor: 1.10× at small bodies, 1.03× from 64 KiB. */
export const limitFor = (size: number): number => (size >= 65536 ? 1.03 : 1.1);

/** Checks the issue's targets against the measured ratios. */
export function evaluateTargets(results: Results): Target[] {
  const out: Target[] = [];
  for (const [sizeText, cases] of Object.entries(results.sizes)) {
    const size = Number(sizeText);
    const ratio = (id: string): number | undefined => cases[id]?.ratio?.p50;
    const add = (target: string, measured: number | undefined, limit: number) =>
      out.push({ size, target, measured, limit, pass: measured === undefined || Number.isNaN(limit) ? undefined : measured <= limit });
    for (const c of Object.values(cases)) {
      if (c.group === 'keyturn') add(`${c.id} ≤ ${limitFor(size).toFixed(2)}× ${c.floor}`, c.ratio?.p50, limitFor(size));
      if (c.group === 'webcrypto' && c.id !== c.floor) add(`${c.id} ≤ 1.10× ${c.floor}`, c.ratio?.p50, 1.1);
      // The fleet ledger's cost on the hot path, paired directly with the same verifier without a fleet.
      if (c.group === 'fleet') add(`${c.id} ≤ 1.02× ${c.floor} (the ledger's cost)`, c.ratio?.p50, 1.02);
    }
    for (const s of ['sc', 'ds']) {
      for (const m of ['verify', 'sync']) {
        const cache = ratio(`kt-${s}-cache-${m}`);
        const stat = ratio(`kt-${s}-static-${m}`);
        if (cache !== undefined && stat !== undefined) add(`kt-${s}-cache-${m} within 5% of kt-${s}-static-${m}`, cache / stat, 1.05);
      }
    }
    // Peers: keyturn on the same job must be faster. Both sides are ratios to the same sync floor;
    // keyturn's `verify` is converted through the measured async/sync floor ratio.
    for (const c of Object.values(cases)) {
      if (c.group !== 'peer' || c.ratio === undefined) continue;
      const s = c.floor === 'floor-ds-sync' ? 'ds' : 'sc';
      const sync = ratio(`kt-${s}-static-sync`);
      const asyncFloor = ratio(`floor-${s}-async`);
      const verify = ratio(`kt-${s}-static-verify`);
      const peerRatio = c.ratio.p50;
      if (sync !== undefined) add(`kt-${s}-static-sync faster than ${c.id} (keyturn ÷ peer)`, sync / peerRatio, 1);
      if (verify !== undefined && asyncFloor !== undefined) {
        add(`kt-${s}-static-verify faster than ${c.id} (keyturn ÷ peer)`, (verify * asyncFloor) / peerRatio, 1);
      }
    }
    for (const c of Object.values(cases)) {
      if (c.group !== 'reject') continue;
      // HMAC counts show where per-call constants vanish (64 KiB); at 1 KiB the rejection's fixed
      // cost (building the VerificationError, stack trace included) is shown for information.
      const big = size >= 65536;
      const n = /forged(\d+)/.exec(c.id)?.[1];
      if (n !== undefined) {
        add(
          `${c.id}: at most ${n} HMACs${big ? '' : ' (information: + parse and error at 1 KiB)'}`,
          c.ratio?.p50,
          big ? Number(n) + 0.5 : NaN,
        );
      } else {
        add(
          `${c.id}: no HMAC before the cheap checks pass${big ? ' (< 0.5× one HMAC)' : ' (information: error cost at 1 KiB)'}`,
          c.ratio?.p50,
          big ? 0.5 : NaN,
        );
      }
    }
    for (const c of Object.values(cases)) {
      if (c.group === 'cold' && c.id !== c.floor) add(`${c.id}: cold path = one store round trip (≤ 1.10× ${c.floor})`, c.ratio?.p50, 1.1);
    }
  }
  return out;
}

const GROUP_TITLES: Record<string, string> = {
  floor: 'Floors (node:crypto, called directly)',
  keyturn: 'keyturn',
  fleet: 'keyturn with a fleet (usage ledger), paired with the same verifier without one',
  reject: 'keyturn rejections',
  peer: 'Peers on the same job',
  webcrypto: 'WebCrypto',
  cold: 'Cold path (first request for a secretId)',
};

/** The markdown report: tables per size, targets, allocation. */
export function renderMarkdown(results: Results): string {
  const m = results.machine;
  const o = results.options as { quick: boolean; rounds: number; chunks: number; chunkMs: number };
  const lines: string[] = [];
  lines.push(
    `Command: \`pnpm bench${o.quick ? ' -- --quick' : ''}\` (${o.rounds} rounds × ${o.chunks} chunk pairs × ${o.chunkMs} ms per case and size)`,
  );
  lines.push('');
  lines.push(
    `Machine: ${m.nproc} × ${m.cpuModel} (${m.cpuFlags.join(', ')}), ${m.memGiB} GiB, ${m.platform}; Node ${m.node} (V8 ${m.v8}, OpenSSL ${m.openssl}); ` +
      `load average ${m.loadavgStart[0]} at start, ${results.loadavgEnd?.[0] ?? '?'} at end; ${results.startedAt.slice(0, 10)}, ${results.durationS ?? '?'} s.`,
  );
  lines.push('');
  lines.push(
    `Packages: ${Object.entries(m.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(' · ')}`,
  );
  const sizes = Object.keys(results.sizes).map(Number);
  const ids: string[] = [];
  for (const s of sizes) for (const id of Object.keys(results.sizes[s]!)) if (!ids.includes(id)) ids.push(id);
  const any = (id: string) => sizes.map((s) => results.sizes[s]![id]).find((c) => c !== undefined)!;

  lines.push('');
  lines.push("`× floor` = median of the per-pair ratios to the case's floor (p25–p75).");
  lines.push('');
  lines.push(
    `| id | what is timed | floor | ${sizes.map((s) => `${sizeLabel(s)} ns/op | ${sizeLabel(s)} ops/s | ${sizeLabel(s)} × floor`).join(' | ')} |`,
  );
  lines.push(`|---|---|---|${sizes.map(() => '--:|--:|--:').join('|')}|`);
  let group = '';
  for (const id of ids) {
    const c = any(id);
    if (c.group !== group) {
      group = c.group;
      lines.push(`| | _${GROUP_TITLES[group] ?? group}_ | |${sizes.map(() => ' | | ').join('|')}|`);
    }
    const cells = sizes.map((s) => {
      const r = results.sizes[s]![id];
      if (r === undefined) return '– | – | –';
      const q = r.ratio;
      return `${fmtNs(r.nsPerOp)} | ${fmtOps(r.nsPerOp)} | ${q === undefined ? '–' : `**${r2(q.p50)}** (${r2(q.p25)}–${r2(q.p75)})`}`;
    });
    lines.push(`| ${id} | ${c.what} | ${c.floor === id ? '(itself)' : c.floor} | ${cells.join(' | ')} |`);
  }

  if (results.targets.length > 0) {
    lines.push('');
    lines.push('Targets:');
    lines.push('');
    lines.push('| size | target | measured | limit | |');
    lines.push('|---|---|--:|--:|---|');
    for (const t of results.targets) {
      lines.push(
        `| ${sizeLabel(t.size)} | ${t.target} | ${r2(t.measured)} | ${r2(t.limit)} | ${t.pass === undefined ? '–' : t.pass ? 'met' : '**missed**'} |`,
      );
    }
  }

  if (ids.some((id) => sizes.some((s) => results.sizes[s]![id]?.alloc !== undefined))) {
    lines.push('');
    lines.push(
      'Allocation per operation (JS heap incl. everything collected during the loop; ArrayBuffer backing stores; young-generation GCs per 1e5 ops):',
    );
    lines.push('');
    lines.push(
      `| id | ${sizes.map((s) => `${sizeLabel(s)} heap/op | ${sizeLabel(s)} ArrayBuffer/op | ${sizeLabel(s)} scavenges/1e5`).join(' | ')} |`,
    );
    lines.push(`|---|${sizes.map(() => '--:|--:|--:').join('|')}|`);
    for (const id of ids) {
      const cells = sizes.map((s) => {
        const a = results.sizes[s]![id]?.alloc;
        return a === undefined
          ? '– | – | –'
          : `${fmtBytes(a.heapBytesPerOp)} | ${fmtBytes(a.arrayBufferBytesPerOp)} | ${Math.round(a.scavengesPer1e5)}`;
      });
      lines.push(`| ${id} | ${cells.join(' | ')} |`);
    }
  }
  for (const n of results.notes) lines.push('', n);
  return lines.join('\n');
}
