import { readSafeFileSync } from '../adapters/safeFile.js';
import type { ClientAuth } from '../adapters/http/types.js';
import type { StoreKeyInput } from '../adapters/storage/types.js';
import type { EngineProviderConfig, OAuthProvider } from '../config/index.js';
import { TokenError } from '../errors.js';
import { toSource } from '../flows/actors.js';
import type { FlowProvider } from '../flows/index.js';

/** One provider as the engine runs it: the config model with its client credential resolved, and where it is stored. */
export interface ProviderSettings {
  /** The provider model itself (read as is by the flow runners and the refresh) plus the resolved client auth. */
  provider: FlowProvider;
  storeKey: StoreKeyInput;
}

/** Client authentication, resolved once; a private key file is read here so a bad path fails at start-up. */
export function clientAuthOf(provider: OAuthProvider): ClientAuth {
  const { clientId, client } = provider;
  switch (client.method) {
    case 'client_assertion': {
      // Federated: the platform JWT is the client's credential, read afresh for every request.
      const source = toSource(client.source)!;
      return { method: 'client_assertion', clientId, readAssertion: (signal) => source.read({ providerId: provider.id, ...(signal ? { signal } : {}) }) };
    }
    case 'client_secret_basic':
    case 'client_secret_post':
      return { method: client.method, clientId, clientSecret: client.secret };
    case 'private_key_jwt': {
      const key = client.privateKey;
      const audience = client.audience ? { audienceKind: client.audience } : {};
      if (key.kind === 'jwk') return { method: 'private_key_jwt', clientId, privateKey: key.jwk, ...audience };
      return {
        method: 'private_key_jwt',
        clientId,
        ...audience,
        privateKey: readPrivateJwk(provider.id, key.path),
        ...(key.alg ? { alg: key.alg } : {}),
        ...(key.kid ? { kid: key.kid } : {}),
      };
    }
    case 'none':
      return { method: 'none', clientId };
  }
}

function readPrivateJwk(providerId: string, path: string): Record<string, unknown> {
  try {
    const jwk = JSON.parse(readSafeFileSync(path, { maxBytes: 64 * 1024 })) as Record<string, unknown>;
    if (typeof jwk.kty !== 'string' || typeof jwk.d !== 'string') throw new Error('not a private JWK');
    return jwk;
  } catch (cause) {
    throw new TokenError({
      code: 'config',
      providerId,
      message: `privateKey.file ${path} could not be read as a private JWK`,
      fix: 'point privateKey.file at a JSON file holding a private JWK (with "kty" and "d")',
      cause,
    });
  }
}

export function providerSettings(provider: EngineProviderConfig): ProviderSettings {
  return {
    provider:
      provider.flow === 'passthrough'
        ? { ...provider, clientAuth: { method: 'none', clientId: provider.id } }
        : { ...provider, clientAuth: clientAuthOf(provider) },
    storeKey:
      provider.flow === 'passthrough'
        ? { providerId: provider.id, issuer: `passthrough:${provider.header}`, clientId: provider.id, flow: 'jwt_bearer', scopes: [] }
        : {
            providerId: provider.id,
            issuer: provider.issuer,
            clientId: provider.clientId,
            flow: provider.flow,
            scopes: provider.scopes,
            ...(provider.audience ? { audience: provider.audience } : {}),
            ...(provider.resource?.length ? { resource: provider.resource.join(' ') } : {}),
          },
  };
}
