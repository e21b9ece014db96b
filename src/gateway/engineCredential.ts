/**
 * The upstream key as an access token of our own token engine: it acquires and renews it at the upstream's
 * IdP (client_credentials, jwt_bearer, …) with the same tokenLifecycle the plugin uses.
 */
import type { UpstreamCredential } from './config.js';
import { CredentialUnavailableError, staticCredential, type CredentialSource } from './credential.js';

export async function credentialSource(credential: UpstreamCredential): Promise<CredentialSource> {
  if (credential.kind === 'static') return staticCredential(credential.key);
  // Imported only for this source: a static-key gateway never loads the engine.
  const { createTokenEngine } = await import('../engine.js');
  const engine = createTokenEngine({ servers: credential.servers });
  return {
    async key() {
      try {
        return (await engine.getToken(credential.provider)).accessToken;
      } catch (error) {
        throw new CredentialUnavailableError(`upstream credential (provider ${credential.provider}) unavailable`, { cause: error });
      }
    },
    stop: () => engine.stop(),
  };
}
