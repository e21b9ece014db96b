import { redactUrl } from '../redact.js';
import { sendOnce } from './client.js';
import { clientAuthParts } from './clientAuth.js';
import { requireEndpointUrl, type HttpEnv } from './env.js';
import { errorFromReply } from './oauthErrors.js';
import { requestSecrets } from './requestSecrets.js';
import { sendWithRetry } from './retry.js';
import type { ClientAuth, HttpOptions } from './types.js';

export type RevocationRequest = HttpOptions & {
  endpoint: string;
  clientAuth: ClientAuth;
  token: string;
  tokenTypeHint?: 'access_token' | 'refresh_token';
};

/**
 * Revokes a token. Revocation is idempotent (revoking twice is harmless, and an unknown token is
 * answered with 200), so it retries like any other request. Any 2xx is success; the body is ignored.
 * @see RFC 7009 §2.1, §2.2
 */
export async function revokeToken(request: RevocationRequest, env: HttpEnv): Promise<void> {
  const url = requireEndpointUrl(request.endpoint, 'revocationEndpoint', request.providerId).href;
  const knownSecrets = [request.token, ...requestSecrets(request.clientAuth)];
  const reply = await sendWithRetry(
    async (signal) => {
      const auth = await clientAuthParts(request.clientAuth, { providerId: request.providerId, endpoint: url, now: env.now });
      const form = new URLSearchParams({ token: request.token });
      if (request.tokenTypeHint) form.set('token_type_hint', request.tokenTypeHint);
      for (const [name, value] of Object.entries(auth.params)) form.set(name, value);
      return sendOnce(
        env.client,
        { method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth.headers }, body: form.toString() },
        signal,
      );
    },
    {
      providerId: request.providerId,
      what: 'revocation endpoint',
      url,
      oneShot: false,
      knownSecrets,
      timeoutMs: request.timeoutMs ?? env.timeoutMs,
      ...(request.deadline !== undefined ? { deadline: request.deadline } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    },
    env,
  );
  if (reply.status >= 200 && reply.status < 300) {
    env.logger.debug('token_revoked', { providerId: request.providerId, endpoint: redactUrl(url), tokenTypeHint: request.tokenTypeHint });
    return;
  }
  throw errorFromReply(reply, { providerId: request.providerId, what: 'revocation endpoint', url, clientAuthMethod: request.clientAuth.method, knownSecrets }, env.now());
}
