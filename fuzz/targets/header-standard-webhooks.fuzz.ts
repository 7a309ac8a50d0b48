/** Fuzz target: the Standard Webhooks / Svix header parser (see lib/headers.ts for the properties). */
import { providers } from '@keyturn/core';
import { headerTarget } from '../lib/header-target.ts';
import { WHSEC_BASE64_SECRETS, whsecBase64Key } from '../lib/secrets.ts';

export const fuzz = headerTarget({
  profile: providers.standardWebhooks(),
  secrets: WHSEC_BASE64_SECRETS,
  keyBytes: whsecBase64Key,
  id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
});
