import { redactUrl } from '../redact.js';
import { postClientForm } from './clientFormPost.js';
import { requireEndpointUrl, type HttpEnv } from './env.js';
import { errorFromReply } from './oauthErrors.js';
import { requestSecrets } from './requestSecrets.js';
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
  const reply = await postClientForm(
    {
      ...request,
      url,
      what: 'revocation endpoint',
      params: { token: request.token, token_type_hint: request.tokenTypeHint || undefined },
      knownSecrets,
    },
    env,
  );
  if (reply.status >= 200 && reply.status < 300) {
    env.logger.debug('token_revoked', { providerId: request.providerId, endpoint: redactUrl(url), tokenTypeHint: request.tokenTypeHint });
    return;
  }
  throw errorFromReply(reply, { providerId: request.providerId, what: 'revocation endpoint', url, clientAuthMethod: request.clientAuth.method, knownSecrets }, env.now());
}
