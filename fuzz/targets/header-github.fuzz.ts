/** Fuzz target: the GitHub header parser (see lib/headers.ts for the properties). */
import { providers } from '@keyturn/core';
import { headerTarget } from '../lib/header-target.ts';
import { UTF8_SECRETS, utf8Key } from '../lib/secrets.ts';

export const fuzz = headerTarget({
  profile: providers.github(),
  secrets: UTF8_SECRETS,
  keyBytes: utf8Key,
  id: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
  extraHeaders: ['x-hub-signature'],
});
