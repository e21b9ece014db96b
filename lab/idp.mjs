// @ts-check
/**
 * The lab IdP: a real oidc-provider 9.13.3 on 127.0.0.1, configured like a Keycloak realm for tests,
 * benchmarks and `npm run demo`. Built-in clients, auto-approved login/consent, jwt-bearer (RFC 7523) and
 * token-exchange (RFC 8693) against a trusted CI issuer, per-grant counters and fault injection.
 * See lab/README.md.
 * @module
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import * as jose from 'jose';
import { approveDeviceAt, DEVICE_MARKER, followAuthorization, LAB_COOKIE } from './browser-walk.mjs';
import { emptyGrantCounter, FaultQueue, GRANT_TYPE, normalizeGrantType, tokenEndpointFaultLayer } from './faults.mjs';
import { closeServer, listenOnLoopback, readBodyText, parseJsonLoose } from './http.mjs';
import { LabStorage } from './memory-store.mjs';
import { trustedIssuer } from './trusted-issuer.mjs';

/** @typedef {import('./faults.mjs').FaultSpec} FaultSpec */
/** @typedef {import('./faults.mjs').GrantCounter} GrantCounter */

/**
 * @typedef {object} IdpOptions
 * @property {number} [accessTokenTtl] seconds, default 300 (access tokens and client_credentials tokens)
 * @property {number} [refreshTokenTtl] seconds, default 86400
 * @property {number} [deviceCodeTtl] seconds, default 600 (a short one makes the real `expired_token`)
 * @property {number} [deviceInterval] add `interval` to every device authorization response (oidc-provider sends none)
 * @property {boolean} [alwaysIssueRefreshToken] default true (Keycloak-like): every grant of a client allowed
 *   refresh_token gets one; false: oidc-provider's rule (only with offline_access, and at /auth only with prompt=consent)
 * @property {boolean} [rotateRefreshToken] default true: every refresh rotates, and reuse revokes the grant
 * @property {boolean} [quiet] default true: drop oidc-provider's "Unsupported runtime" warning and NOTICE lines
 * @property {string | { issuer: string, jwksUri?: string }} [ciIssuer] the trusted CI issuer (URL or a CiIssuer)
 *   for jwt-bearer assertions and token-exchange subject/actor tokens
 * @property {Array<Record<string, unknown>>} [clients] extra oidc-provider client metadata
 * @property {string} [defaultAccount] account logged in without a hint (default 'alice')
 * @property {boolean} [singleUseSubjectTokens] default true: a jwt-bearer assertion or token-exchange subject_token `jti`
 *   may be used once; false takes a token again until it expires, as Keycloak does for projected SA tokens
 * @property {boolean} [strictAssertionAudience] default false: a client assertion (private_key_jwt) whose `aud` is not the
 *   issuer or the token endpoint gets 401 invalid_client on every endpoint, as at Keycloak (oidc-provider also accepts
 *   the URL of the endpoint being called)
 * @property {boolean} [requireDevicePkce] default false: /device/auth without `code_challenge` is invalid_request
 *   (a `code_challenge` that is sent is always enforced at the token endpoint, like Keycloak)
 * @property {boolean} [strictClientAuthMethod] default true: a secret sent with Basic to a client_secret_post client
 *   (or in the body to a client_secret_basic one) is 401 invalid_client at /token, like Okta/Entra
 *   (oidc-provider 9 itself accepts either)
 */

/**
 * @typedef {object} LabClient
 * @property {string} client_id
 * @property {string} [client_secret]
 */

/**
 * @typedef {object} LabClients
 * @property {LabClient} native public, PKCE: authorization_code, device_code, refresh_token
 * @property {LabClient} basic client_secret_basic, client_credentials, scopes api:read api:write
 * @property {LabClient} post client_secret_post, client_credentials, scopes api:read api:write
 * @property {LabClient} ci public (auth none): jwt-bearer and token-exchange, the CI token is the only credential
 * @property {LabClient} exchange client_secret_basic: jwt-bearer, token-exchange, client_credentials
 * @property {LabClient & { privateJwk: jose.JWK, kid: string, alg: 'ES256' }} privateKeyJwt
 *   private_key_jwt: client_credentials, jwt-bearer, token-exchange
 * @property {LabClient} gateway client_secret_basic, no grants: introspection (RFC 7662) for the gateway
 * @property {LabClient} federated client_credentials authenticated by a CI issuer JWT as `client_assertion`
 *   (workload identity federation, as Entra does it): `aud` must be this issuer or its token endpoint; reusable until exp
 */

/**
 * @typedef {object} IdpCounters
 * @property {Record<string, GrantCounter>} token per grant_type (full URN for extension grants)
 * @property {GrantCounter} deviceAuthorization
 * @property {{ requests: number, active: number, inactive: number }} introspection
 * @property {number} revocation
 * @property {number} authorization requests to /auth
 */

/**
 * @typedef {object} Idp
 * @property {string} issuer `http://127.0.0.1:<port>`
 * @property {number} port
 * @property {string} tokenEndpoint
 * @property {string} authorizationEndpoint
 * @property {string} deviceAuthorizationEndpoint
 * @property {string} introspectionEndpoint
 * @property {string} revocationEndpoint
 * @property {string} jwksUri
 * @property {LabClients} clients
 * @property {any} provider the oidc-provider instance (untyped)
 * @property {IdpCounters} counters
 * @property {(grantType: string) => GrantCounter} grantCount counter of one grant type (short names accepted)
 * @property {() => void} resetCounters
 * @property {Array<{ grantType: string, error: string, detail: string | undefined }>} grantErrors
 *   why oidc-provider refused each grant (its `error_description` is generic; the detail is not)
 * @property {(spec: FaultSpec) => void} fault queue a fault (see lab/README.md)
 * @property {() => void} clearFaults
 * @property {(authorizeUrl: string, options?: { loginHint?: string, deny?: boolean }) => Promise<{ callbackUrl: string, status: number }>} browserLogin
 * @property {(verificationUriCompleteOrUserCode: string, options?: { deny?: boolean, loginHint?: string }) => Promise<{ approved: boolean, aborted: boolean, status: number }>} approveDevice
 * @property {(token: string) => Promise<boolean>} revokeToken invalidate one access, client-credentials or refresh token
 * @property {(accountOrClientId: string) => Promise<number>} revokeAllFor revoke every grant and token of an account or client; returns how many
 * @property {(token: string) => Promise<Record<string, any>>} introspect RFC 7662 through the gateway client
 * @property {() => Promise<string>} mintClientAssertion a private_key_jwt client assertion for `clients.privateKeyJwt`
 * @property {() => Promise<void>} stop
 */

const SCOPES = ['openid', 'offline_access', 'profile', 'email', 'api:read', 'api:write'];
const TOKEN_TYPE = Object.freeze({
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
});

let quietInstances = 0;
let consoleFilterInstalled = false;

/** Drop oidc-provider's console lines while a quiet IdP lives (its warnings go straight to console). */
function installConsoleFilter() {
  if (consoleFilterInstalled) return;
  consoleFilterInstalled = true;
  for (const method of /** @type {const} */ (['warn', 'info', 'log'])) {
    const original = console[method].bind(console);
    console[method] = (...args) => {
      if (quietInstances > 0 && typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) return;
      original(...args);
    };
  }
}

/**
 * Start the lab IdP on 127.0.0.1:0.
 * @param {IdpOptions} [options]
 * @returns {Promise<Idp>}
 */
export async function startIdp(options = {}) {
  const quiet = options.quiet ?? true;
  if (quiet) {
    installConsoleFilter();
    quietInstances += 1;
  }
  try {
    return await createIdp(options, quiet);
  } catch (error) {
    if (quiet) quietInstances -= 1;
    throw error;
  }
}

/**
 * @param {IdpOptions} options
 * @param {boolean} quiet
 * @returns {Promise<Idp>}
 */
async function createIdp(options, quiet) {
  // @ts-ignore -- oidc-provider ships no types (and @types/oidc-provider is not installed)
  const { default: Provider, errors } = /** @type {any} */ (await import('oidc-provider'));
  const accessTokenTtl = options.accessTokenTtl ?? 300;
  const refreshTokenTtl = options.refreshTokenTtl ?? 86400;
  const alwaysIssueRefreshToken = options.alwaysIssueRefreshToken ?? true;
  const defaultAccount = options.defaultAccount ?? 'alice';

  // The issuer must carry the port, so listen before constructing the Provider.
  const server = http.createServer();
  const port = await listenOnLoopback(server);
  const issuer = `http://127.0.0.1:${port}`;

  const [signingKeys, clientKeys] = await Promise.all([
    jose.generateKeyPair('ES256', { extractable: true }),
    jose.generateKeyPair('ES256', { extractable: true }),
  ]);
  const signingJwk = { ...(await jose.exportJWK(signingKeys.privateKey)), kid: 'lab-idp-es256', alg: 'ES256', use: 'sig' };
  const clientKid = 'lab-pkjwt-es256';
  const clientPrivateJwk = { ...(await jose.exportJWK(clientKeys.privateKey)), kid: clientKid, alg: 'ES256' };
  const clientPublicJwk = { ...(await jose.exportJWK(clientKeys.publicKey)), kid: clientKid, alg: 'ES256', use: 'sig' };

  const secret = () => randomBytes(18).toString('base64url');
  /** @type {LabClients} */
  const clients = {
    native: { client_id: 'lab-native' },
    basic: { client_id: 'lab-basic', client_secret: secret() },
    post: { client_id: 'lab-post', client_secret: secret() },
    ci: { client_id: 'lab-ci' },
    exchange: { client_id: 'lab-exchange', client_secret: secret() },
    privateKeyJwt: { client_id: 'lab-pkjwt', privateJwk: clientPrivateJwk, kid: clientKid, alg: 'ES256' },
    gateway: { client_id: 'lab-gateway', client_secret: secret() },
    federated: { client_id: 'lab-federated' },
  };
  const machineClient = { redirect_uris: [], response_types: [], scope: 'api:read api:write' };
  const clientMetadata = [
    {
      client_id: clients.native.client_id,
      client_name: 'Lab native app (PKCE)',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      // Loopback redirect URIs match on any port (RFC 8252 §7.3); the path must match exactly.
      redirect_uris: ['http://127.0.0.1/oauth2/callback', 'http://127.0.0.1/callback'],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token', GRANT_TYPE.deviceCode],
    },
    { ...machineClient, client_id: clients.basic.client_id, client_secret: clients.basic.client_secret,
      token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'] },
    { ...machineClient, client_id: clients.post.client_id, client_secret: clients.post.client_secret,
      token_endpoint_auth_method: 'client_secret_post', grant_types: ['client_credentials'] },
    { ...machineClient, client_id: clients.ci.client_id, token_endpoint_auth_method: 'none',
      grant_types: [GRANT_TYPE.jwtBearer, GRANT_TYPE.tokenExchange] },
    { ...machineClient, client_id: clients.exchange.client_id, client_secret: clients.exchange.client_secret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials', GRANT_TYPE.jwtBearer, GRANT_TYPE.tokenExchange] },
    { ...machineClient, client_id: clients.privateKeyJwt.client_id, token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256', jwks: { keys: [clientPublicJwk] },
      grant_types: ['client_credentials', GRANT_TYPE.jwtBearer, GRANT_TYPE.tokenExchange] },
    // Registered as a public client so oidc-provider lets the lab's federation layer authenticate it.
    { ...machineClient, client_id: clients.federated.client_id, token_endpoint_auth_method: 'none',
      grant_types: ['client_credentials'] },
    { client_id: clients.gateway.client_id, client_secret: clients.gateway.client_secret,
      token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [], response_types: [], grant_types: [] },
    ...(options.clients ?? []),
  ];

  /** @param {string} clientId */
  const registeredSecretMethod = (clientId) => {
    const method = clientMetadata.find((c) => c.client_id === clientId)?.token_endpoint_auth_method;
    return method === 'client_secret_basic' || method === 'client_secret_post' ? method : undefined;
  };

  const storage = new LabStorage();
  /** @type {WeakMap<object, Record<string, unknown>>} claims a CI subject contributes to the token minted from it */
  const subjectClaims = new WeakMap();

  const provider = new Provider(issuer, {
    adapter: storage.adapterClass(),
    clients: clientMetadata,
    clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'] },
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(24).toString('base64url')] },
    scopes: SCOPES,
    // Only the code flow: no implicit/hybrid response types (and no "implicit" in discovery).
    responseTypes: ['code', 'none'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    findAccount: async (/** @type {unknown} */ _ctx, /** @type {string} */ accountId) => ({
      accountId,
      claims: async () => ({ sub: accountId, name: accountId, email: `${accountId}@lab.test`, email_verified: true }),
    }),
    interactions: { url: (/** @type {unknown} */ _ctx, /** @type {{ uid: string }} */ interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: deviceInputPage,
        userCodeConfirmSource: deviceConfirmPage,
        successSource: deviceSuccessPage,
      },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Same rule as the default (public clients see only their own tokens), named so it stays quiet.
        allowedPolicy: async (/** @type {any} */ ctx, /** @type {any} */ client, /** @type {any} */ token) =>
          client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (/** @type {any} */ _ctx, /** @type {any} */ client, /** @type {any} */ token) =>
          token.clientId === client.clientId || client.clientId === clients.gateway.client_id,
      },
      rpInitiatedLogout: { enabled: false },
    },
    clientBasedCORS: () => false,
    issueRefreshToken: alwaysIssueRefreshToken
      ? async (/** @type {unknown} */ _ctx, /** @type {any} */ client) => client.grantTypeAllowed('refresh_token')
      : async (/** @type {unknown} */ _ctx, /** @type {any} */ client, /** @type {any} */ code) =>
        client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    rotateRefreshToken: options.rotateRefreshToken ?? true,
    extraTokenClaims: async (/** @type {unknown} */ _ctx, /** @type {object} */ token) => subjectClaims.get(token),
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      RefreshToken: refreshTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: options.deviceCodeTtl ?? 600,
      BackchannelAuthenticationRequest: 600,
      IdToken: 3600,
      Interaction: 600,
      Session: 86400,
      Grant: Math.max(refreshTokenTtl, accessTokenTtl),
    },
    renderError: async (/** @type {any} */ ctx, /** @type {Record<string, string>} */ out) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><head><title>lab idp error</title></head><body><h1>${escapeHtml(out.error ?? 'error')}</h1>`
        + `<p>${escapeHtml(out.error_description ?? '')}</p><p>${DEVICE_MARKER.failed}</p></body></html>`;
    },
  });
  provider.proxy = false;

  /** @type {IdpCounters} */
  const counters = freshCounters();
  /** @type {Idp['grantErrors']} */
  const grantErrors = [];
  provider.on('grant.error', (/** @type {any} */ ctx, /** @type {any} */ error) => {
    grantErrors.push({
      grantType: String(ctx.oidc?.params?.grant_type ?? ''),
      error: String(error.error ?? error.name),
      detail: error.error_detail,
    });
  });

  const faults = new FaultQueue();
  /** @type {Map<string, string>} device_code → S256 code_challenge */
  const deviceChallenges = new Map();
  /** @type {Set<() => void>} */
  const hung = new Set();
  let stopped = false;
  const untilStopped = () => new Promise((resolve) => {
    if (stopped) return resolve(undefined);
    hung.add(() => resolve(undefined));
  }).then(() => undefined);

  provider.use(labControlRoutes);
  provider.use(countOtherEndpoints);
  provider.use(tokenEndpointFaultLayer({
    queue: faults,
    tokenCounters: counters.token,
    deviceAuthorizationCounter: counters.deviceAuthorization,
    deviceInterval: options.deviceInterval,
    untilStopped,
    ...(options.strictClientAuthMethod ?? true ? { registeredSecretMethod } : {}),
  }));
  provider.use(strictAssertionAudience);
  provider.use(federatedClientCredentials);
  provider.use(devicePkce);
  provider.use(autoApproveInteraction);

  const ci = options.ciIssuer ? trustedIssuer(options.ciIssuer) : undefined;
  /** @type {Map<string, number>} jti → exp, for replay detection */
  const seenJti = new Map();
  registerJwtBearer();
  registerTokenExchange();

  server.on('request', provider.callback());

  // ---- middleware -------------------------------------------------------------------------------------

  /**
   * Keycloak-like: a client assertion must be addressed to the issuer (or the token endpoint), whichever
   * endpoint it is sent to; oidc-provider alone also accepts the called endpoint's URL.
   * @param {any} ctx @param {() => Promise<unknown>} next
   */
  async function strictAssertionAudience(ctx, next) {
    if (!options.strictAssertionAudience || ctx.method !== 'POST') return next();
    // The fault layer pre-reads /token and /device/auth; read the others here (oidc-provider takes req.body).
    if (typeof ctx.req.body !== 'string') ctx.req.body = await readBodyText(ctx.req);
    const params = new URLSearchParams(ctx.req.body);
    const assertion = params.get('client_assertion');
    if (!assertion || params.get('client_id') === clients.federated.client_id) return next();
    let aud;
    try {
      aud = jose.decodeJwt(assertion).aud;
    } catch {
      return next();
    }
    const accepted = [issuer, `${issuer}/token`];
    if ([aud].flat().some((value) => accepted.includes(String(value)))) return next();
    ctx.status = 401;
    ctx.body = { error: 'invalid_client', error_description: 'Invalid token audience' };
    return undefined;
  }

  /**
   * Workload identity federation (Entra's model): client_credentials for `clients.federated`, whose only
   * credential is a JWT from the trusted CI issuer sent as `client_assertion`. Verified like a jwt-bearer
   * assertion (signature, iss, aud = this issuer or its token endpoint, exp); reusable until it expires.
   * @param {any} ctx @param {() => Promise<unknown>} next
   */
  async function federatedClientCredentials(ctx, next) {
    if (ctx.method !== 'POST' || ctx.path !== '/token') return next();
    const params = new URLSearchParams(typeof ctx.req.body === 'string' ? ctx.req.body : '');
    if (params.get('client_id') !== clients.federated.client_id || params.get('grant_type') !== 'client_credentials') return next();
    /** @param {number} status @param {string} error @param {string} description */
    const refuse = (status, error, description) => {
      ctx.status = status;
      ctx.body = { error, error_description: description };
    };
    if (params.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      return refuse(401, 'invalid_client', 'a federated client authenticates with a client_assertion');
    }
    let subject;
    try {
      // No replay check: Entra takes the same federated token for every request until it expires.
      subject = await verifyCiJwt(params.get('client_assertion') ?? undefined, 'client_assertion');
    } catch (error) {
      return refuse(401, 'invalid_client', String(/** @type {any} */ (error).error_description ?? 'client assertion rejected'));
    }
    const client = await provider.Client.find(clients.federated.client_id);
    let scope;
    try {
      scope = grantedScope(client, params.get('scope') ?? undefined);
    } catch {
      return refuse(400, 'invalid_scope', 'requested scope is not allowed');
    }
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = Math.max(1, Math.min(accessTokenTtl, (subject.exp ?? now + accessTokenTtl) - now));
    const token = new provider.ClientCredentials({ client, scope, expiresIn });
    subjectClaims.set(token, { sub: subject.sub, subject_iss: subject.iss });
    const value = await token.save();
    ctx.status = 200;
    ctx.set('cache-control', 'no-store');
    ctx.body = { access_token: value, token_type: 'Bearer', expires_in: expiresIn, ...(scope ? { scope } : {}) };
    return undefined;
  }

  /**
   * Test-only endpoints for other processes: POST/DELETE /__faults, GET /__counters, POST /__counters/reset.
   * @param {any} ctx @param {() => Promise<unknown>} next
   */
  async function labControlRoutes(ctx, next) {
    if (!ctx.path.startsWith('/__')) return next();
    ctx.set('cache-control', 'no-store');
    if (ctx.path === '/__faults' && ctx.method === 'POST') {
      const body = parseJsonLoose(await readBodyText(ctx.req));
      const list = Array.isArray(body) ? body : [body];
      try {
        for (const spec of list) faults.add(fromWireFault(spec));
      } catch (error) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: /** @type {Error} */ (error).message };
        return;
      }
      ctx.status = 201;
      ctx.body = { queued: list.length, pending: faults.pending };
      return;
    }
    if (ctx.path === '/__faults' && ctx.method === 'DELETE') {
      faults.clear();
      ctx.status = 204;
      return;
    }
    if (ctx.path === '/__counters' && ctx.method === 'GET') {
      ctx.body = counters;
      return;
    }
    if (ctx.path === '/__counters/reset' && ctx.method === 'POST') {
      resetCounters();
      ctx.status = 204;
      return;
    }
    ctx.status = 404;
    ctx.body = { error: 'not_found' };
  }

  /** @param {any} ctx @param {() => Promise<unknown>} next */
  async function countOtherEndpoints(ctx, next) {
    await next();
    if (ctx.path === '/token/introspection' && ctx.method === 'POST') {
      counters.introspection.requests += 1;
      if (ctx.body?.active === true) counters.introspection.active += 1;
      else counters.introspection.inactive += 1;
    } else if (ctx.path === '/token/revocation' && ctx.method === 'POST') {
      counters.revocation += 1;
    } else if (ctx.path === '/auth') {
      counters.authorization += 1;
    }
  }

  /**
   * PKCE on the device flow, as Keycloak does it: oidc-provider accepts `code_challenge` at /device/auth but
   * never checks a verifier, so the lab binds the challenge to the device_code and checks `code_verifier`
   * on every poll of that device_code (RFC 7636 §4.6).
   * @param {any} ctx @param {() => Promise<unknown>} next
   */
  async function devicePkce(ctx, next) {
    if (ctx.method !== 'POST' || (ctx.path !== '/device/auth' && ctx.path !== '/token')) return next();
    const params = new URLSearchParams(typeof ctx.req.body === 'string' ? ctx.req.body : '');
    /** @param {string} error @param {string} description */
    const refuse = (error, description) => {
      ctx.status = 400;
      ctx.body = { error, error_description: description };
    };
    if (ctx.path === '/device/auth') {
      const challenge = params.get('code_challenge');
      if (challenge && params.get('code_challenge_method') !== 'S256') {
        return refuse('invalid_request', 'code_challenge_method must be S256');
      }
      if (!challenge && options.requireDevicePkce) return refuse('invalid_request', 'PKCE code_challenge is required');
      await next();
      if (challenge && ctx.status === 200 && typeof ctx.body?.device_code === 'string') {
        deviceChallenges.set(ctx.body.device_code, challenge);
      }
      return undefined;
    }
    if (params.get('grant_type') === GRANT_TYPE.deviceCode) {
      const challenge = deviceChallenges.get(params.get('device_code') ?? '');
      const verifier = params.get('code_verifier');
      if (challenge && (!verifier || createHash('sha256').update(verifier).digest('base64url') !== challenge)) {
        return refuse('invalid_grant', 'PKCE verification failed');
      }
    }
    return next();
  }

  /**
   * Auto-approve login and consent: the account is the `lab_login_hint` cookie, else `login_hint`,
   * else the default account; the `lab_deny` cookie ends the interaction with access_denied.
   * @param {any} ctx @param {() => Promise<unknown>} next
   */
  async function autoApproveInteraction(ctx, next) {
    if (ctx.method !== 'GET' || !/^\/interaction\/[\w-]+$/.test(ctx.path)) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session, grantId } = details;
    const cookies = parseCookieHeader(ctx.get('cookie'));
    /** @type {Record<string, unknown>} */
    let result;
    if (cookies.get(LAB_COOKIE.deny)) {
      result = { error: 'access_denied', error_description: 'End-User denied the request (lab)' };
    } else if (prompt.name === 'login') {
      const hint = cookies.get(LAB_COOKIE.loginHint);
      result = { login: { accountId: (hint && decodeURIComponent(hint)) || params.login_hint || defaultAccount } };
    } else {
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const missing = prompt.details ?? {};
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, /** @type {string[]} */ (scopes).join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    }
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  }

  // ---- extension grants -------------------------------------------------------------------------------

  /**
   * Verify a JWT from the trusted CI issuer: signature by its JWKS, `iss`, `aud` = this issuer (or the
   * token endpoint, RFC 7523 §3), `exp`, and required claims.
   * @param {string | undefined} jwt
   * @param {string} what which parameter, for the error detail
   * @returns {Promise<jose.JWTPayload>}
   */
  async function verifyCiJwt(jwt, what) {
    if (!ci) throw new errors.InvalidGrant(`${what}: no trusted CI issuer configured`);
    if (!jwt) throw new errors.InvalidRequest(`missing required parameter '${what}'`);
    try {
      const { payload } = await jose.jwtVerify(jwt, await ci.keys(), {
        issuer: ci.issuer,
        audience: [issuer, `${issuer}/token`],
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      return payload;
    } catch (error) {
      const { code = 'invalid', claim } = /** @type {{ code?: string, claim?: string }} */ (error);
      throw new errors.InvalidGrant(`${what} rejected (${code}${claim ? `, claim ${claim}` : ''})`);
    }
  }

  /**
   * RFC 7523 §3 leaves replay protection to the server; one use per `jti` until it expires.
   * @param {jose.JWTPayload} payload
   * @param {string} what
   */
  function rejectReplay(payload, what) {
    if (options.singleUseSubjectTokens === false) return;
    const now = Math.floor(Date.now() / 1000);
    for (const [jti, exp] of seenJti) if (exp < now) seenJti.delete(jti);
    if (!payload.jti) throw new errors.InvalidGrant(`${what} has no jti`);
    if (seenJti.has(payload.jti)) throw new errors.InvalidGrant(`${what} replayed (jti already used)`);
    seenJti.set(payload.jti, payload.exp ?? now);
  }

  /**
   * Scopes granted: the requested ones, which must be within the client's registered scope.
   * @param {any} client
   * @param {string | undefined} requested
   */
  function grantedScope(client, requested) {
    const allowed = new Set(String(client.scope ?? SCOPES.join(' ')).split(' '));
    const asked = requested ? requested.split(' ').filter(Boolean) : [...allowed];
    const refused = asked.filter((s) => !allowed.has(s));
    if (refused.length) throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
    return asked.join(' ') || undefined;
  }

  /**
   * Mint an access token for a CI subject; it never outlives the subject token.
   * @param {any} ctx
   * @param {jose.JWTPayload} subject
   * @param {{ scope: string | undefined, audience?: string, actor?: jose.JWTPayload }} grant
   */
  async function mintForSubject(ctx, subject, grant) {
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = Math.max(1, Math.min(accessTokenTtl, (subject.exp ?? now + accessTokenTtl) - now));
    const token = new provider.ClientCredentials({ client: ctx.oidc.client, scope: grant.scope, expiresIn });
    if (grant.audience) token.setAudience(grant.audience);
    /** @type {Record<string, unknown>} */
    const claims = { sub: subject.sub, subject_iss: subject.iss };
    for (const name of ['repository', 'ref', 'workflow', 'actor', 'kubernetes.io']) {
      if (subject[name] !== undefined) claims[name] = subject[name];
    }
    if (grant.actor) claims.act = { sub: grant.actor.sub, iss: grant.actor.iss };
    subjectClaims.set(token, claims);
    ctx.oidc.entity('ClientCredentials', token);
    const value = await token.save();
    return { access_token: value, token_type: 'Bearer', expires_in: token.expiration, scope: token.scope };
  }

  function registerJwtBearer() {
    provider.registerGrantType(GRANT_TYPE.jwtBearer, async (/** @type {any} */ ctx) => {
      const assertion = await verifyCiJwt(ctx.oidc.params.assertion, 'assertion');
      rejectReplay(assertion, 'assertion');
      const scope = grantedScope(ctx.oidc.client, ctx.oidc.params.scope);
      ctx.body = await mintForSubject(ctx, assertion, { scope });
    }, ['assertion', 'scope']);
  }

  function registerTokenExchange() {
    const params = ['subject_token', 'subject_token_type', 'requested_token_type', 'actor_token',
      'actor_token_type', 'audience', 'resource', 'scope'];
    provider.registerGrantType(GRANT_TYPE.tokenExchange, async (/** @type {any} */ ctx) => {
      const p = ctx.oidc.params;
      if (!p.subject_token_type) throw new errors.InvalidRequest("missing required parameter 'subject_token_type'");
      if (p.subject_token_type !== TOKEN_TYPE.jwt && p.subject_token_type !== TOKEN_TYPE.idToken) {
        throw new errors.InvalidRequest('unsupported subject_token_type');
      }
      if (p.requested_token_type && p.requested_token_type !== TOKEN_TYPE.accessToken) {
        throw new errors.InvalidRequest('unsupported requested_token_type');
      }
      if (p.actor_token && !p.actor_token_type) {
        throw new errors.InvalidRequest("actor_token_type is required with 'actor_token'");
      }
      const subject = await verifyCiJwt(p.subject_token, 'subject_token');
      rejectReplay(subject, 'subject_token');
      const actor = p.actor_token ? await verifyCiJwt(p.actor_token, 'actor_token') : undefined;
      const audiences = [p.audience, p.resource].flat().filter(Boolean);
      if (audiences.length > 1) throw new errors.InvalidTarget('only a single audience or resource is supported');
      const scope = grantedScope(ctx.oidc.client, p.scope);
      const body = await mintForSubject(ctx, subject, { scope, audience: audiences[0], ...(actor ? { actor } : {}) });
      ctx.body = { ...body, issued_token_type: TOKEN_TYPE.accessToken };
    }, params, ['audience', 'resource']);
  }

  // ---- helpers on the Idp object ----------------------------------------------------------------------

  function resetCounters() {
    const fresh = freshCounters();
    for (const key of Object.keys(counters.token)) delete counters.token[key];
    Object.assign(counters.deviceAuthorization, fresh.deviceAuthorization);
    Object.assign(counters.introspection, fresh.introspection);
    counters.revocation = 0;
    counters.authorization = 0;
    grantErrors.length = 0;
  }

  /** @param {string} token */
  async function revokeToken(token) {
    for (const model of [provider.AccessToken, provider.ClientCredentials, provider.RefreshToken]) {
      const found = await model.find(token, { ignoreExpiration: true });
      if (found) {
        await found.destroy();
        return true;
      }
    }
    return false;
  }

  /** @param {string} who */
  async function revokeAllFor(who) {
    let revoked = 0;
    for (const [grantId, grant] of storage.list('Grant')) {
      if (grant.accountId === who || grant.clientId === who) {
        storage.revokeGrant(grantId);
        revoked += 1;
      }
    }
    for (const model of ['AccessToken', 'RefreshToken', 'ClientCredentials']) {
      for (const [id, payload] of storage.list(model)) {
        if (payload.accountId === who || payload.clientId === who || payload.extra?.sub === who) {
          storage.entries.delete(`${model}:${id}`);
          revoked += 1;
        }
      }
    }
    return revoked;
  }

  /** @param {string} token */
  async function introspect(token) {
    const res = await fetch(`${issuer}/token/introspection`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(clients.gateway.client_id, /** @type {string} */ (clients.gateway.client_secret)),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }),
    });
    return /** @type {Record<string, any>} */ (await res.json());
  }

  async function mintClientAssertion() {
    const { client_id: clientId } = clients.privateKeyJwt;
    return new jose.SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: clientKid })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(issuer)
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(clientKeys.privateKey);
  }

  let stopping;
  async function stop() {
    stopping ??= (async () => {
      stopped = true;
      for (const release of hung) release();
      hung.clear();
      await closeServer(server);
      if (quiet) quietInstances -= 1;
    })();
    return stopping;
  }

  return {
    issuer,
    port,
    tokenEndpoint: `${issuer}/token`,
    authorizationEndpoint: `${issuer}/auth`,
    deviceAuthorizationEndpoint: `${issuer}/device/auth`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    revocationEndpoint: `${issuer}/token/revocation`,
    jwksUri: `${issuer}/jwks`,
    clients,
    provider,
    counters,
    grantCount: (grantType) => counters.token[normalizeGrantType(grantType)] ?? emptyGrantCounter(),
    resetCounters,
    grantErrors,
    fault: (spec) => faults.add(spec),
    clearFaults: () => faults.clear(),
    browserLogin: (authorizeUrl, loginOptions = {}) => followAuthorization(authorizeUrl, loginOptions),
    approveDevice: (target, deviceOptions = {}) => approveDeviceAt(
      /^https?:/.test(target) ? target : `${issuer}/device?user_code=${encodeURIComponent(target)}`,
      deviceOptions,
    ),
    revokeToken,
    revokeAllFor,
    introspect,
    mintClientAssertion,
    stop,
  };
}

/** @returns {IdpCounters} */
function freshCounters() {
  return {
    token: {},
    deviceAuthorization: emptyGrantCounter(),
    introspection: { requests: 0, active: 0, inactive: 0 },
    revocation: 0,
    authorization: 0,
  };
}

/**
 * A fault as sent to POST /__faults (snake_case accepted for other languages' tests).
 * @param {any} spec
 * @returns {FaultSpec}
 */
function fromWireFault(spec) {
  if (!spec || typeof spec !== 'object') throw new Error('lab: a fault must be a JSON object');
  const { grant_type: grantType, retry_after: retryAfter, delay_ms: ms, ...rest } = spec;
  return {
    ...rest,
    ...(grantType !== undefined ? { grantType } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
    ...(ms !== undefined && rest.ms === undefined ? { ms } : {}),
  };
}

/**
 * @param {string | undefined} header
 * @returns {Map<string, string>}
 */
function parseCookieHeader(header) {
  const cookies = new Map();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * RFC 6749 §2.3.1: form-urlencode each part before base64.
 * @param {string} id @param {string} secret
 */
export function basicAuth(id, secret) {
  const encode = (/** @type {string} */ s) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

/** @param {string} text */
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** @param {string} title @param {string} body */
function page(title, body) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}

/** @param {any} ctx @param {string} form @param {unknown} _out @param {any} err */
async function deviceInputPage(ctx, form, _out, err) {
  const message = err?.name === 'AbortedError' ? `<p>The Sign-in request was interrupted</p><p>${DEVICE_MARKER.aborted}</p>`
    : err ? `<p>There was an error processing your request</p><p>${DEVICE_MARKER.failed}</p>`
      : '<p>Enter the code displayed on your device</p>';
  ctx.body = page('Sign-in', `${message}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`);
}

/** @param {any} ctx @param {string} form @param {unknown} _client @param {unknown} _info @param {string} userCode */
async function deviceConfirmPage(ctx, form, _client, _info, userCode) {
  ctx.body = page('Confirm Device', `<p>The following code should be displayed on your device: <code>${escapeHtml(userCode)}</code></p>${form}`
    + '<button type="submit" form="op.deviceConfirmForm">Continue</button>');
}

/** @param {any} ctx */
async function deviceSuccessPage(ctx) {
  ctx.body = page('Sign-in Success', `<p>Your sign-in was successful, you can now close this page.</p><p>${DEVICE_MARKER.approved}</p>`);
}
