// The fuzz targets. `sync` targets run in Jazzer.js's synchronous mode (several times faster);
// the others return a promise per input. `dict` entries are libFuzzer dictionary tokens: the
// pieces of each format the fuzzer could not guess quickly on its own.
const HEX = ['0123456789abcdef', 'ABCDEF'];
const TIMESTAMPED = ['t=', 'v1=', 'v0=', ',', ', ', '=', '1700000000', '0001700000000'];

/** @type {{ name: string, file: string, sync: boolean, dict: string[], maxLen: number, what: string }[]} */
export const targets = [
  { name: 'header-smartcar', file: 'targets/header-smartcar.fuzz.ts', sync: true, dict: [...HEX, 'sc-signature'], maxLen: 4096, what: 'SC-Signature parser, verify of mutated signed requests' },
  { name: 'header-mobway', file: 'targets/header-mobway.fuzz.ts', sync: true, dict: [...HEX, 'x-signature'], maxLen: 4096, what: 'X-Signature parser, verify of mutated signed requests' },
  { name: 'header-dataspike', file: 'targets/header-dataspike.fuzz.ts', sync: true, dict: [...HEX, ...TIMESTAMPED], maxLen: 4096, what: 't=…,v1=… parser (Dataspike), verify of mutated signed requests' },
  { name: 'header-stripe', file: 'targets/header-stripe.fuzz.ts', sync: true, dict: [...HEX, ...TIMESTAMPED], maxLen: 4096, what: 'Stripe-Signature parser, verify of mutated signed requests' },
  { name: 'header-standard-webhooks', file: 'targets/header-standard-webhooks.fuzz.ts', sync: true, dict: ['v1,', 'v1a,', 'v2,', ' ', '=', '==', '+', '/', 'msg_', '.', '1700000000'], maxLen: 4096, what: 'webhook-*/svix-* parser, verify of mutated signed requests' },
  { name: 'header-github', file: 'targets/header-github.fuzz.ts', sync: true, dict: [...HEX, 'sha256=', 'sha1='], maxLen: 4096, what: 'X-Hub-Signature-256 parser, verify of mutated signed requests' },
  { name: 'header-shopify', file: 'targets/header-shopify.fuzz.ts', sync: true, dict: ['=', '==', '+', '/', '-', '_'], maxLen: 4096, what: 'X-Shopify-Hmac-Sha256 / shopify-hmac-sha256 parser, verify of mutated signed requests' },
  { name: 'header-slack', file: 'targets/header-slack.fuzz.ts', sync: true, dict: [...HEX, 'v0=', '1700000000'], maxLen: 4096, what: 'X-Slack-Signature + timestamp parser, verify of mutated signed requests' },
  { name: 'header-hmac', file: 'targets/header-hmac.fuzz.ts', sync: true, dict: [...HEX, 'sha256=', 'v1,', ' ', ',', '=', '+', '/'], maxLen: 4096, what: 'hmac({...}) parser over its options (encodings, algorithms, prefixes, separators, timestamp/id headers)' },
  { name: 'signed-content', file: 'targets/signed-content.fuzz.ts', sync: true, dict: ['{body}', '{timestamp}', '{id}', '.', ':', 'whsec_', 'v1,'], maxLen: 2048, what: 'sign() and every profile\'s signedPrefix/formatHeaders, hmac() signedContent templates, decodeSecret' },
  { name: 'encoding', file: 'targets/encoding.fuzz.ts', sync: true, dict: ['=', '==', '+', '/', '-', '_', 'AA', 'ff'], maxLen: 1024, what: 'strict hex and base64 (standard, URL-safe) against Buffer' },
  { name: 'env-file', file: 'targets/env-file.fuzz.ts', sync: false, dict: ['export ', '=', '#', "'", '"', '\\n', '\\"', '\\\\', '_PREVIOUS', '_PENDING', '_NOT_AFTER', '_NOT_BEFORE', '_FILE', '\r\n', 'FZ'], maxLen: 2048, what: 'envFileKeyStore: reader, rotate/retirePrevious writer, byte-for-byte preservation' },
  { name: 'body-node', file: 'targets/body-node.fuzz.ts', sync: false, dict: ['\x1f\x8b', '0', '10'], maxLen: 2048, what: 'readNodeBody (node and Express adapters) on real IncomingMessage streams' },
  { name: 'body-fetch', file: 'targets/body-fetch.fuzz.ts', sync: false, dict: ['\x1f\x8b', '0', '10'], maxLen: 2048, what: 'readRequestBody / withVerification (Fetch adapter) on real Request streams' },
];
