/**
 * `pnpm demo`: prints one line per request (provider, key id, role, HTTP status) and a usage summary.
 */
import { runDemo, type DemoLine } from './demo.ts';

const cols = (line: DemoLine) =>
  [line.phase.padEnd(18), line.provider.padEnd(10), line.request.padEnd(26), String(line.status).padEnd(7), (line.keyId ?? '-').padEnd(34), (line.keyRole ?? '-').padEnd(9), line.code ?? ''].join(' ');

console.log('keyturn demo: a local receiver (node:http + envKeyStore) and a sender, through a secret rotation\n');
console.log(['phase'.padEnd(18), 'provider'.padEnd(10), 'request'.padEnd(26), 'status'.padEnd(7), 'key id'.padEnd(34), 'role'.padEnd(9), 'code'].join(' '));
let lastPhase = '';
const { usage, now } = await runDemo({
  onLine(line) {
    if (line.phase !== lastPhase && lastPhase !== '') console.log('');
    lastPhase = line.phase;
    console.log(cols(line));
  },
});

console.log('\nUsage per key (what tells an operator the old key is safe to retire):');
console.log(['secret'.padEnd(26), 'key id'.padEnd(34), 'role'.padEnd(9), 'matches'.padEnd(8), 'last match', 'window ends'].join(' '));
for (const u of usage) {
  const ago = u.lastMatchedAt === undefined ? 'never' : `${Math.round((now - u.lastMatchedAt) / 60_000)} min ago`;
  const end = u.notAfter === undefined ? '-' : u.notAfter < now ? 'ended' : new Date(u.notAfter).toISOString();
  console.log([u.secretId.padEnd(26), u.keyId.padEnd(34), u.keyRole.padEnd(9), String(u.matches).padEnd(8), ago.padEnd(10), end].join(' '));
}
console.log('\nDone: old and new keys were both accepted during the window and reported by key; after it, only the new key.');
