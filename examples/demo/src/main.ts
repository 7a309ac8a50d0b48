/**
 * `pnpm demo`: prints one line per request (provider, key id, role, HTTP status) and a usage summary.
 */
import { runDemo, type DemoLine } from './demo.ts';
import { formatTable } from './table.ts';

const cells = (line: DemoLine) => [
  line.phase,
  line.provider,
  line.request,
  String(line.status),
  line.keyId ?? '-',
  line.keyRole ?? '-',
  line.code ?? '',
];

console.log('keyturn demo: a local receiver (node:http + envKeyStore) and a sender, through a secret rotation\n');
// The table is printed once every request is done, so each column can be as wide as its widest cell.
const rows: (string[] | null)[] = [];
let lastPhase = '';
const { usage, now } = await runDemo({
  onLine(line) {
    if (line.phase !== lastPhase && lastPhase !== '') rows.push(null);
    lastPhase = line.phase;
    rows.push(cells(line));
  },
});
for (const l of formatTable(['phase', 'provider', 'request', 'status', 'key id', 'role', 'code'], rows)) console.log(l);

console.log('\nUsage per key (what tells an operator the old key is safe to retire):');
const usageRows = usage.map((u) => {
  const ago = u.lastMatchedAt === undefined ? 'never' : `${Math.round((now - u.lastMatchedAt) / 60_000)} min ago`;
  const end = u.notAfter === undefined ? '-' : u.notAfter < now ? 'ended' : new Date(u.notAfter).toISOString();
  return [u.secretId, u.keyId, u.keyRole, String(u.matches), ago, end];
});
for (const l of formatTable(['secret', 'key id', 'role', 'matches', 'last match', 'window ends'], usageRows)) console.log(l);
console.log('\nDone: old and new keys were both accepted during the window and reported by key; after it, only the new key.');
