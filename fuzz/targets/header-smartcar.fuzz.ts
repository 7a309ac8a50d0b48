/** Fuzz target: the Smartcar header parser (see lib/headers.ts for the properties). */
import { providers } from '@keyturn/core';
import { headerTarget } from '../lib/header-target.ts';
import { UTF8_SECRETS, utf8Key } from '../lib/secrets.ts';

export const fuzz = headerTarget({ profile: providers.smartcar(), secrets: UTF8_SECRETS, keyBytes: utf8Key });
