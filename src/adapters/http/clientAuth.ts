import { randomUUID } from 'node:crypto';
import type { JWK, KeyObject, CryptoKey } from 'jose';
import { TokenError } from '../../errors.js';
import type { ClientAuth } from './types.js';

/** Headers and body parameters that authenticate the client on one request. */
export interface ClientAuthParts {
  headers: Record<string, string>;
  params: Record<string, string>;
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Lifetime of a client assertion: long enough for a slow network, short enough to be useless if leaked. */
export const CLIENT_ASSERTION_LIFETIME_SEC = 60;

export interface ClientAuthContext {
  providerId: string;
  /** The endpoint the request goes to (the last fallback for the `aud` of a client assertion). */
  endpoint: string;
  /** The issuer: the default `aud` of a client assertion, whatever endpoint is called. */
  issuer?: string;
  /** The token endpoint, for `audience: 'token_endpoint'`. */
  tokenEndpoint?: string;
  now: () => number;
  /** `client_assertion`: the external JWT, read once for the request by `readClientAssertion`. */
  clientAssertion?: string;
}

/**
 * The `aud` of a private_key_jwt assertion. The issuer by default, for every endpoint: Keycloak refuses
 * an assertion addressed to its device authorization or revocation endpoint, and RFC 7523bis moves to
 * the issuer as the one audience; `token_endpoint` for servers that want that (older Entra, Okta orgs).
 * @see RFC 7523 §3 (aud), draft-ietf-oauth-rfc7523bis §4
 */
export function assertionAudience(auth: Extract<ClientAuth, { method: 'private_key_jwt' }>, context: ClientAuthContext): string {
  if (auth.audience) return auth.audience;
  if (auth.audienceKind === 'token_endpoint') return context.tokenEndpoint ?? context.endpoint;
  return context.issuer ?? context.tokenEndpoint ?? context.endpoint;
}

/** Reads a federated client assertion (a platform JWT used as the client's credential) for one request. */
export async function readClientAssertion(
  auth: Extract<ClientAuth, { method: 'client_assertion' }>,
  request: { providerId: string; signal?: AbortSignal },
): Promise<string> {
  const assertion = await auth.readAssertion(request.signal);
  requireNonEmpty(assertion, 'clientAssertionSource', request.providerId);
  return assertion;
}

/** Adds form parameters; a list (several RFC 8707 `resource` values) becomes repeated parameters. */
export function appendFormParams(form: URLSearchParams, params: Record<string, string | readonly string[] | undefined>): void {
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (typeof value === 'string') form.set(name, value);
    else {
      form.delete(name);
      for (const item of value) form.append(name, item);
    }
  }
}

/**
 * Client authentication for one request. Called once per attempt, so every attempt of a
 * `private_key_jwt` request carries a fresh `jti` (servers reject a replayed assertion).
 * @see RFC 6749 §2.3.1 (client_secret_basic, client_secret_post), RFC 7523 §2.2 (private_key_jwt),
 *      OpenID Connect Core §9
 */
export async function clientAuthParts(auth: ClientAuth, context: ClientAuthContext): Promise<ClientAuthParts> {
  requireNonEmpty(auth.clientId, 'clientId', context.providerId);
  switch (auth.method) {
    case 'none':
      return { headers: {}, params: { client_id: auth.clientId } };
    case 'client_secret_basic':
      requireNonEmpty(auth.clientSecret, 'clientSecret', context.providerId);
      return { headers: { authorization: basicAuthorization(auth.clientId, auth.clientSecret) }, params: {} };
    case 'client_secret_post':
      requireNonEmpty(auth.clientSecret, 'clientSecret', context.providerId);
      return { headers: {}, params: { client_id: auth.clientId, client_secret: auth.clientSecret } };
    case 'client_assertion': {
      const assertion = context.clientAssertion ?? (await readClientAssertion(auth, context));
      return {
        headers: {},
        params: { client_id: auth.clientId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion },
      };
    }
    case 'private_key_jwt': {
      const assertion = await createClientAssertion(auth, context);
      return {
        headers: {},
        params: { client_id: auth.clientId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion },
      };
    }
    default: {
      const method: unknown = (auth as { method?: unknown }).method;
      throw new TokenError({
        code: 'config',
        providerId: context.providerId,
        message: `clientAuth "method" ${JSON.stringify(String(method))} is not supported`,
        fix: 'use one of none, client_secret_basic, client_secret_post, private_key_jwt, or a clientAssertionSource',
      });
    }
  }
}

/**
 * `Basic base64(form(id) ":" form(secret))`: both halves are form-urlencoded first, so a secret with `:`,
 * `%` or non-ASCII survives (a common interop bug when skipped).
 * @see RFC 6749 §2.3.1
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const credentials = `${formEncode(clientId)}:${formEncode(clientSecret)}`;
  return `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
}

/** application/x-www-form-urlencoded encoding of one value (space → `+`, as URLSearchParams does). */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * A client assertion JWT: `iss` = `sub` = client_id, `aud` = see `assertionAudience`,
 * a random `jti`, `iat` now, `exp` now + 60 s.
 * @see RFC 7523 §3, OpenID Connect Core §9 (private_key_jwt)
 */
export async function createClientAssertion(
  auth: Extract<ClientAuth, { method: 'private_key_jwt' }>,
  context: ClientAuthContext,
): Promise<string> {
  const jwk = auth.privateKey as JWK;
  const alg = auth.alg ?? (typeof jwk.alg === 'string' ? jwk.alg : undefined) ?? defaultAlg(jwk);
  if (!alg) {
    throw new TokenError({
      code: 'config',
      providerId: context.providerId,
      message: `clientAuth "privateKey" has key type ${JSON.stringify(String(jwk.kty))} and no "alg"`,
      fix: 'set clientAuth.alg (RS256, ES256, EdDSA…) or an "alg" member in the JWK',
    });
  }
  const key = await importPrivateKey(jwk, alg, context.providerId);
  const kid = auth.kid ?? (typeof jwk.kid === 'string' ? jwk.kid : undefined);
  const nowSec = Math.floor(context.now() / 1000);
  // jose is loaded on the first signed assertion: only private_key_jwt providers need it.
  const { SignJWT } = await loadJose();
  return new SignJWT({})
    .setProtectedHeader(kid ? { alg, kid } : { alg })
    .setIssuer(auth.clientId)
    .setSubject(auth.clientId)
    .setAudience(assertionAudience(auth, context))
    .setJti(randomUUID())
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + CLIENT_ASSERTION_LIFETIME_SEC)
    .sign(key);
}

function defaultAlg(jwk: JWK): string | undefined {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC') return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[jwk.crv ?? ''];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

type ImportedKey = CryptoKey | KeyObject | Uint8Array;

const loadJose = () => import('jose');

const importedKeys = new WeakMap<object, Map<string, Promise<ImportedKey>>>();

async function importPrivateKey(jwk: JWK, alg: string, providerId: string): Promise<ImportedKey> {
  if (jwk.kty === 'oct' || typeof jwk.d !== 'string') {
    throw new TokenError({
      code: 'config',
      providerId,
      message: 'clientAuth "privateKey" must be a private asymmetric JWK (RSA, EC or OKP with a "d" member)',
      fix: 'use the private JWK whose public half is registered with the IdP',
    });
  }
  let byAlg = importedKeys.get(jwk);
  if (!byAlg) {
    byAlg = new Map();
    importedKeys.set(jwk, byAlg);
  }
  let imported = byAlg.get(alg);
  if (!imported) {
    imported = loadJose().then(({ importJWK }) => importJWK(jwk, alg));
    byAlg.set(alg, imported);
    imported.catch(() => byAlg.delete(alg));
  }
  try {
    return await imported;
  } catch {
    // jose's message may quote key parameters; ours names only the field and the algorithm.
    throw new TokenError({
      code: 'config',
      providerId,
      message: `clientAuth "privateKey" cannot be used with alg ${JSON.stringify(alg)}`,
      fix: 'check that the JWK is a complete private key matching the algorithm',
    });
  }
}

function requireNonEmpty(value: unknown, field: string, providerId: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TokenError({
      code: 'config',
      providerId,
      message: `clientAuth "${field}" must be a non-empty string`,
      fix: `set ${field} in the provider configuration`,
    });
  }
}
