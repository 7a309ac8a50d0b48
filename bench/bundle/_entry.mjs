import { createVerifier, providers } from '@keyturn/core';
import { withVerification } from '@keyturn/core/adapters/fetch';
export default {
  fetch(request, env) {
    const verifier = createVerifier({ provider: providers.smartcar(), keys: [{ id: 'amt', secret: env.SMARTCAR_AMT, role: 'active' }] });
    return withVerification(verifier, async (req, { result }) => new Response(result.keyId))(request);
  },
};
