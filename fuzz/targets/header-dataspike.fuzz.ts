/** Fuzz target: the Dataspike header parser (see lib/headers.ts for the properties). */
import { providers } from '@keyturn/core';
import { headerTarget } from '../lib/header-target.ts';
import { WHSEC_HEX_SECRETS, whsecHexKey } from '../lib/secrets.ts';

export const fuzz = headerTarget({ profile: providers.dataspike(), secrets: WHSEC_HEX_SECRETS, keyBytes: whsecHexKey });
