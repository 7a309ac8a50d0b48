/**
 * Throw-away TLS material for the offline Key Vault: a self-signed CA and a server certificate it
 * signs, made with `node:crypto` alone (P-256 keys, X.509 v3 written as DER by hand), so tests need no
 * `openssl` binary and no files.
 *
 * @module
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

/** Options of {@link createTestCertificates}. */
export interface TestCertificateOptions {
  /** DNS names and IP addresses the server certificate is valid for. @default ['localhost', 'login.localhost', '*.vault.localhost', '127.0.0.1'] */
  readonly hosts?: readonly string[] | undefined;
  /** Validity start, epoch ms (the certificates are valid from one hour before it). @default Date.now() */
  readonly now?: number | undefined;
  /** Validity length, in ms. @default 86_400_000 (24 h) */
  readonly validityMs?: number | undefined;
}

/** PEM texts of a test CA and of a server certificate it signed. */
export interface TestCertificates {
  /** The CA certificate: what a client trusts (`ca` of an `https.Agent`, `NODE_EXTRA_CA_CERTS`). */
  readonly caPem: string;
  /** The server certificate (leaf). */
  readonly certPem: string;
  /** The server's private key (PKCS #8). */
  readonly keyPem: string;
  /** The hosts the server certificate names. */
  readonly hosts: readonly string[];
}

/** The default `hosts` of {@link createTestCertificates}. */
export const DEFAULT_TEST_HOSTS: readonly string[] = ['localhost', 'login.localhost', '*.vault.localhost', '127.0.0.1'];

/**
 * Creates a CA and a server certificate for `hosts`. Nothing is written to disk; the keys exist only
 * in the returned PEM texts.
 */
export function createTestCertificates(options: TestCertificateOptions = {}): TestCertificates {
  const hosts = [...(options.hosts ?? DEFAULT_TEST_HOSTS)];
  if (hosts.length === 0) throw new TypeError('createTestCertificates(): `hosts` is empty');
  const start = (options.now ?? Date.now()) - 3_600_000;
  const end = start + 3_600_000 + (options.validityMs ?? 86_400_000);
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caName = name('keyturn test CA');
  const caSpki = spki(ca.publicKey);
  const caKeyId = keyId(caSpki);
  const caDer = certificate({
    issuer: caName,
    subject: caName,
    spki: caSpki,
    start,
    end,
    signer: ca.privateKey,
    extensions: [
      extension(OID.basicConstraints, true, seq(bool(true))),
      extension(OID.keyUsage, true, bitString(Buffer.from([0x06]), 1)), // keyCertSign, cRLSign
      extension(OID.subjectKeyIdentifier, false, octets(caKeyId)),
    ],
  });
  const leafSpki = spki(leaf.publicKey);
  const leafDer = certificate({
    issuer: caName,
    subject: name(hosts[0] as string),
    spki: leafSpki,
    start,
    end,
    signer: ca.privateKey,
    extensions: [
      extension(OID.basicConstraints, true, seq()),
      extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)), // digitalSignature
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, seq(...hosts.map(generalName))),
      extension(OID.subjectKeyIdentifier, false, octets(keyId(leafSpki))),
      extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, caKeyId))),
    ],
  });
  return {
    caPem: pem('CERTIFICATE', caDer),
    certPem: pem('CERTIFICATE', leafDer),
    keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    hosts,
  };
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

interface CertificateParts {
  issuer: Buffer;
  subject: Buffer;
  spki: Buffer;
  start: number;
  end: number;
  signer: KeyObject;
  extensions: Buffer[];
}

function certificate(p: CertificateParts): Buffer {
  const serial = randomBytes(16);
  // DER INTEGER: positive (top bit clear) and minimal (no leading zero byte) — OpenSSL refuses both otherwise.
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  // The order of TBSCertificate fields is fixed: version, serial, signature, issuer, validity, subject, spki, extensions.
  const body = seq(
    tlv(0xa0, int(Buffer.from([2]))),
    int(serial),
    algorithm,
    p.issuer,
    seq(time(p.start), time(p.end)),
    p.subject,
    p.spki,
    tlv(0xa3, seq(...p.extensions)),
  );
  const signature = sign('sha256', body, p.signer); // ECDSA: DER-encoded (r, s)
  return seq(body, algorithm, bitString(signature, 0));
}

function name(commonName: string): Buffer {
  return seq(set(seq(oid(OID.commonName), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

function generalName(host: string): Buffer {
  if (isIP(host) === 4) return tlv(0x87, Buffer.from(host.split('.').map(Number)));
  if (isIP(host) === 6) throw new TypeError(`createTestCertificates(): IPv6 hosts are not supported (${host})`);
  return tlv(0x82, Buffer.from(host, 'ascii')); // dNSName
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyId(spkiDer: Buffer): Buffer {
  // The key bits are the last 65 bytes of a P-256 SPKI (uncompressed point).
  return createHash('sha1')
    .update(spkiDer.subarray(spkiDer.length - 65))
    .digest();
}

function time(ms: number): Buffer {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const two = (n: number) => String(n).padStart(2, '0');
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  // UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
  return year < 2050 ? tlv(0x17, Buffer.from(`${two(year % 100)}${rest}`, 'ascii')) : tlv(0x18, Buffer.from(`${year}${rest}`, 'ascii'));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// --- DER ---

function tlv(tag: number, value: Buffer): Buffer {
  const n = value.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, value]);
}

function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function set(...items: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(items));
}

function int(bytes: Buffer): Buffer {
  return tlv(0x02, bytes);
}

function bool(v: boolean): Buffer {
  return tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
}

function octets(value: Buffer): Buffer {
  return tlv(0x04, value);
}

function bitString(value: Buffer, unusedBits: number): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), value]));
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let v = part >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
