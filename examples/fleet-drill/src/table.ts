/**
 * The drill's table: one column per store, the rows the issue asks for.
 */
import type { DrillReport, Spread } from './drill.ts';

const ms = (x: number | undefined): string => (x === undefined ? '–' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const spreadText = (s: Spread): string => (s.samples === 0 ? '–' : `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (n=${s.samples})`);

/** Markdown table of one or more runs. */
export function drillTable(reports: readonly DrillReport[]): string {
  const rows: [string, (r: DrillReport) => string][] = [
    ['deliveries sent (rate achieved)', (r) => `${r.deliveries.sent} (${r.rate.achieved}/s of ${r.rate.target}/s, ${ms(r.sendingMs)})`],
    ['accepted at once', (r) => String(r.deliveries.acceptedAtOnce)],
    ['accepted after a 503 retry', (r) => String(r.deliveries.acceptedAfter503)],
    ['accepted after a dropped connection (receiver killed)', (r) => String(r.deliveries.acceptedAfterOtherRetry)],
    ['duplicates acknowledged (409, processed once already)', (r) => String(r.deliveries.duplicateAcknowledged)],
    ['**rejected 401** (must be 0)', (r) => `**${r.deliveries.rejected401}**`],
    ['other rejections / given up', (r) => `${r.deliveries.rejectedOther} / ${r.deliveries.gaveUp}`],
    ['**processed twice** (must be 0, replay on)', (r) => `**${r.processedTwice}**`],
    ['accepted but not processed', (r) => String(r.acceptedNotProcessed)],
    ['503 KEY_ROTATION_IN_PROGRESS answered (fence)', (r) => String(r.rotation.rotationInProgress503)],
    [
      'rotate answer → every instance on the new key',
      (r) =>
        `${ms(r.rotation.allOnNewKeyMs)} (${Object.entries(r.rotation.perInstanceMs)
          .filter(([n]) => n !== 'r1b')
          .map(([n, v]) => `${n} ${ms(v)}`)
          .join(', ')})`,
    ],
    ['`keyturn rotate dataspike` (exit, time)', (r) => `${r.rotation.cliExit}, ${ms(r.rotation.cliMs)}`],
    [
      'store calls per instance (by reason)',
      (r) =>
        Object.entries(r.storeCalls)
          .map(
            ([n, c]) =>
              `${n}: ${c['total']} (${Object.entries(c)
                .filter(([k]) => k !== 'total')
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')})`,
          )
          .join('; '),
    ],
    ['notice → instance (arrival)', (r) => spreadText(r.notices.arrival)],
    ['notice → reload done (store read included)', (r) => spreadText(r.notices.reload)],
    [
      'verdict (quiet period)',
      (r) =>
        `${r.verdict.transitions.map((t) => `${t.safe ? 'yes' : 'no'} at ${ms(t.atMs)} (${t.reason})`).join(' → ')} [quiet ${ms(r.verdict.quietMs)}]`,
    ],
    [
      '**"yes" on missing evidence** (must be 0)',
      (r) =>
        `**${r.verdict.violations}** of ${r.verdict.polls} polls (${r.verdict.unreadable} unreadable while Redis was down); last old-key match ${ms(r.verdict.lastOldKeyMatchMs)}`,
    ],
    [
      'faults',
      (r) =>
        Object.entries(r.faults)
          .map(([k, v]) => `${k} ${ms(v)}`)
          .join('; '),
    ],
    [
      'Redis memory',
      (r) =>
        `ledger hash ${r.redisMemory['ledgerHash'] ?? '–'} B, ${r.redisMemory['minuteHashes'] ?? 0} minute hashes ${r.redisMemory['minuteHashBytes'] ?? 0} B, registry ${r.redisMemory['registry'] ?? '–'} B, ${r.redisMemory['claims'] ?? 0} claims at ${r.redisMemory['bytesPerClaim'] ?? '–'} B each`,
    ],
  ];
  const head = `| | ${reports.map((r) => r.store).join(' | ')} |\n|---|${reports.map(() => '---').join('|')}|\n`;
  return head + rows.map(([label, f]) => `| ${label} | ${reports.map((r) => f(r).replace(/\|/g, '\\|')).join(' | ')} |`).join('\n') + '\n';
}

/** Whether a run met the issue's bars. */
export function problems(r: DrillReport): string[] {
  const out: string[] = [];
  if (r.deliveries.rejected401 !== 0) out.push(`${r.store}: ${r.deliveries.rejected401} deliveries rejected 401`);
  if (r.processedTwice !== 0) out.push(`${r.store}: ${r.processedTwice} deliveries processed twice`);
  if (r.deliveries.gaveUp !== 0 || r.deliveries.rejectedOther !== 0)
    out.push(`${r.store}: ${r.deliveries.gaveUp} given up, ${r.deliveries.rejectedOther} rejected`);
  if (r.acceptedNotProcessed !== 0) out.push(`${r.store}: ${r.acceptedNotProcessed} accepted but not processed`);
  if (r.verdict.violations !== 0) out.push(`${r.store}: the verdict said yes ${r.verdict.violations} times on missing evidence`);
  if (r.verdict.finalYesMs === undefined) out.push(`${r.store}: the verdict never settled on yes`);
  if (r.rotation.cliExit !== 0) out.push(`${r.store}: keyturn rotate dataspike exited ${r.rotation.cliExit}`);
  if (r.rotation.allOnNewKeyMs === undefined || r.rotation.allOnNewKeyMs > 1_000)
    out.push(`${r.store}: not every instance held the new key within 1 s (${r.rotation.allOnNewKeyMs} ms)`);
  return out;
}
