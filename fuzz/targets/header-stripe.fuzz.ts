/** Fuzz target: the Stripe header parser (see lib/headers.ts for the properties). */
import { providers } from '@keyturn/core';
import { headerTarget } from '../lib/header-target.ts';
import { STRIPE_SECRETS, utf8Key } from '../lib/secrets.ts';

export const fuzz = headerTarget({ profile: providers.stripe(), secrets: STRIPE_SECRETS, keyBytes: utf8Key });
