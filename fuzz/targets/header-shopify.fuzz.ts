/** Fuzz target: the Shopify header parser (see lib/headers.ts for the properties). */
import { providers } from '@keyturn/core';
import { headerTarget } from '../lib/header-target.ts';
import { UTF8_SECRETS, utf8Key } from '../lib/secrets.ts';

export const fuzz = headerTarget({
  profile: providers.shopify(),
  secrets: UTF8_SECRETS,
  keyBytes: utf8Key,
  id: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
});
