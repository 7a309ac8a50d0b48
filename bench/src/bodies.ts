/**
 * Request bodies: realistic Stripe-like `invoice.payment_succeeded` events as compact JSON, exactly
 * `size` UTF-8 bytes, with some non-ASCII customer data (`ü`, `é`, `×`), as real payloads have.
 *
 * @module
 */

/** One body in every form a library under test takes. */
export interface BodyFixture {
  /** Size in bytes. */
  readonly size: number;
  /** The exact bytes (what a raw-body middleware hands over). */
  readonly bytes: Buffer;
  /** The same body as a JS string (for libraries that only take strings). */
  readonly text: string;
  /** The body with one ASCII byte flipped (must be rejected). */
  readonly tampered: Buffer;
  /** `tampered` as a string. */
  readonly tamperedText: string;
}

function lineItem(i: number): Record<string, unknown> {
  return {
    id: `il_1Q${String(i).padStart(6, '0')}aBcDeFgHiJkLmN`,
    object: 'line_item',
    amount: 1999 + i,
    currency: 'eur',
    description: i % 3 === 0 ? 'Café plan × 1 (Zürich)' : 'Pro plan seat',
    discountable: true,
    livemode: false,
    period: { end: 1_702_592_000 + i, start: 1_700_000_000 + i },
    price: { id: `price_1Q${String(i).padStart(4, '0')}XyZ`, unit_amount: 1999, recurring: { interval: 'month', interval_count: 1 } },
    quantity: 1 + (i % 4),
    type: 'subscription',
  };
}

function event(items: number, footer: string): Record<string, unknown> {
  return {
    id: 'evt_1QmDp2LkdIwHu7ixRZtF9b6K',
    object: 'event',
    api_version: '2024-06-20',
    created: 1_700_000_123,
    type: 'invoice.payment_succeeded',
    livemode: false,
    pending_webhooks: 1,
    data: {
      object: {
        id: 'in_1QmDp0LkdIwHu7ixc3nqG5Vd',
        object: 'invoice',
        customer: 'cus_QdYw3f8Lh2mXrB',
        customer_name: 'Jürgen Müller-Lüdenscheid',
        customer_email: 'jurgen@example.com',
        customer_address: { city: 'Zürich', country: 'CH', line1: 'Bahnhofstrasse 1', postal_code: '8001' },
        amount_paid: 2398,
        currency: 'eur',
        status: 'paid',
        lines: { object: 'list', data: Array.from({ length: items }, (_, i) => lineItem(i)), has_more: false },
        footer,
      },
    },
  };
}

/** Builds a body of exactly `size` UTF-8 bytes. */
export function makeBody(size: number): BodyFixture {
  const len = (items: number, footer: string) => Buffer.byteLength(JSON.stringify(event(items, footer)));
  let items = 0;
  while (len(items + 1, '') <= size) items++;
  const pad = size - len(items, '');
  if (pad < 0) throw new Error(`cannot build a ${size}-byte body`);
  // Pad with ASCII (1 byte per character) so the size is exact; the non-ASCII stays in the data.
  const text = JSON.stringify(event(items, 'x'.repeat(pad)));
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length !== size) throw new Error(`body is ${bytes.length} bytes, wanted ${size}`);
  if (bytes.length === text.length) throw new Error('body must contain non-ASCII text');
  // Flip one ASCII digit in the middle: still valid UTF-8, still valid JSON.
  const tampered = Buffer.from(bytes);
  let at = tampered.length >> 1;
  while (!(tampered[at]! >= 48 && tampered[at]! <= 57)) at++;
  tampered[at] = tampered[at]! ^ 1;
  return { size, bytes, text, tampered, tamperedText: tampered.toString('utf8') };
}
