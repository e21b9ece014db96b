/**
 * The upstream key as an access token of our own token engine: it acquires and renews it at the upstream's
 * IdP (client_credentials, jwt_bearer, …) with the same tokenLifecycle the plugin uses.
 */
import { GatewayConfigError, type UpstreamCredential } from './config.js';
import { CredentialUnavailableError, staticCredential, type CredentialSource } from './credential.js';

/** `upstreamUrl` is each server's `baseURL` unless it names its own: the key is for that upstream. */
export async function credentialSource(credential: UpstreamCredential, upstreamUrl: string): Promise<CredentialSource> {
  if (credential.kind === 'static') return staticCredential(credential.key);
  // Imported only for this source: a static-key gateway never loads the engine.
  const { createTokenEngine } = await import('../engine.js');
  const servers = credential.servers.map((server) =>
    server && typeof server === 'object' && !('baseURL' in server) ? { ...server, baseURL: upstreamUrl } : server,
  );
  const engine = createTokenEngine({ servers });
  const problems = engine.issues.filter((issue) => issue.severity === 'error').map((issue) => issue.message);
  if (!engine.providerIds.includes(credential.provider)) problems.push(`upstream.engine.provider ${credential.provider} is not among the servers`);
  if (problems.length > 0) {
    engine.stop();
    throw new GatewayConfigError(`gateway config: upstream.engine: ${problems.join('; ')}`);
  }
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
