/** Fixed, long, distinct secrets per key codec (long enough that a leak check is meaningful). */
import { createHash } from 'node:crypto';

const bytes = (label: string, n = 32): Buffer => createHash('sha512').update(label).digest().subarray(0, n);

/** Four UTF-8 secrets (Smartcar AMTs, Mobway, GitHub, Shopify, Slack). */
export const UTF8_SECRETS = [
  'amt-active-0f3c9a7e5b1d4c2a',
  'amt-previous-8e2b6d4f1a3c5e7b',
  'amt-pending-5c1e9a3b7d2f4e6a',
  'amt-expired-2d4f6a8c1e3b5d7f',
] as const;

/** Four `whsec_` + hex secrets (Dataspike). */
export const WHSEC_HEX_SECRETS = UTF8_SECRETS.map((s) => `whsec_${bytes(s).toString('hex')}`) as unknown as readonly [
  string,
  string,
  string,
  string,
];

/** Four `whsec_` + base64 secrets, 32 bytes (Standard Webhooks, Svix). */
export const WHSEC_BASE64_SECRETS = UTF8_SECRETS.map((s) => `whsec_${bytes(s).toString('base64')}`) as unknown as readonly [
  string,
  string,
  string,
  string,
];

/** Four Stripe endpoint secrets (used whole, as UTF-8). */
export const STRIPE_SECRETS = UTF8_SECRETS.map((s) => `whsec_${bytes(`stripe ${s}`, 24).toString('base64url')}`) as unknown as readonly [
  string,
  string,
  string,
  string,
];

/** UTF-8 key bytes. */
export const utf8Key = (s: string): Uint8Array => Buffer.from(s, 'utf8');
/** Hex after an optional `whsec_`. */
export const whsecHexKey = (s: string): Uint8Array => Buffer.from(s.replace(/^whsec_/, ''), 'hex');
/** Base64 after an optional `whsec_`. */
export const whsecBase64Key = (s: string): Uint8Array => Buffer.from(s.replace(/^whsec_/, ''), 'base64');
