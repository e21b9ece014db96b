import { describe, expect, it } from 'vitest';
import { parseOpenCodeConfig } from '../../src/config/index.js';
import { BASE, ISSUER, MINIMAL, messagesOf, parseBlock } from './helpers.js';

const SOURCE_HINT = '{"type": "github_actions" | "kubernetes_sa" | "file" | "env" | "command" | "url", ...}';
const SOURCE_TYPES = 'github_actions, kubernetes_sa, file, env, command, url';

/** [what, block, every error message expected, in order]. */
const CASES: [string, Record<string, unknown>, string[]][] = [
  ['redirectPort too high', { ...MINIMAL, redirectPort: 70000 }, ['corp: redirectPort must be an integer in [1, 65535] (received 70000)']],
  ['redirectPort not an integer', { ...MINIMAL, redirectPort: 80.5 }, ['corp: redirectPort must be an integer in [1, 65535] (received 80.5)']],
  ['redirectPort text', { ...MINIMAL, redirectPort: 'eighty' }, ['corp: redirectPort must be an integer in [1, 65535] (received "eighty")']],
  ['redirectPort zero', { ...MINIMAL, redirectPort: 0 }, ['corp: redirectPort must be an integer in [1, 65535] (received 0)']],
  ['missing issuer', { clientId: 'c', scopes: 'openid' }, ["corp: issuer is required (the IdP's issuer URL; only a passthrough provider goes without one)"]],
  ['missing clientId', { issuer: ISSUER, scopes: 'openid' }, ['corp: clientId is required (the OAuth client id registered at the IdP; only a passthrough provider goes without one)']],
  ['missing scopes', { issuer: ISSUER, clientId: 'c' }, ['corp: scopes is required: a non-empty list such as ["openid", "offline_access"] or "openid offline_access"']],
  ['empty scopes', { ...MINIMAL, scopes: ' , ' }, ['corp: scopes is required: a non-empty list such as ["openid", "offline_access"] or "openid offline_access"']],
  ['scopes with a number', { ...MINIMAL, scopes: ['openid', 3] }, ['corp: scopes[1] must be a string (received 3)']],
  ['scopes as object', { ...MINIMAL, scopes: { a: 1 } }, ['corp: scopes must be a non-empty list of scopes: an array of strings or one string split on spaces/commas (received an object)']],
  ['issuer not a URL', { ...MINIMAL, issuer: 'login.corp.example' }, ['corp: issuer must be an absolute http(s) URL (received "login.corp.example")']],
  ['issuer ftp', { ...MINIMAL, issuer: 'ftp://x' }, ['corp: issuer must be an absolute http(s) URL (received "ftp://x")']],
  ['clientId blank', { ...MINIMAL, clientId: '  ' }, ['corp: clientId must be a non-empty string (received "  ")']],
  ['clientSecret blank, value not echoed', { ...MINIMAL, clientSecret: ' ' }, ['corp: clientSecret must be a non-empty string']],
  ['clientSecret wrong type, value not echoed', { ...MINIMAL, clientSecret: 12345678 }, ['corp: clientSecret must be a non-empty string']],
  ['authFlow unknown', { ...MINIMAL, authFlow: 'password' }, ['corp: authFlow must be one of authorization_code, device_code, client_credentials, jwt_bearer, token_exchange (received "password")']],
  ['pkce not boolean', { ...MINIMAL, pkce: 'yes' }, ['corp: pkce must be a boolean (true or false) (received "yes")']],
  ['responseApi not boolean', { ...MINIMAL, responseApi: 1 }, ['corp: responseApi must be a boolean (true or false) (received 1)']],
  ['openBrowser not boolean', { ...MINIMAL, openBrowser: null }, ['corp: openBrowser must be a boolean (true or false) (received null)']],
  ['enabled not boolean', { ...MINIMAL, enabled: 'no' }, ['corp: enabled must be a boolean (true or false) (received "no")']],
  ['syncIntervalMinutes zero', { ...MINIMAL, syncIntervalMinutes: 0 }, ['corp: syncIntervalMinutes must be a number greater than 0 (received 0)']],
  ['syncIntervalMinutes text', { ...MINIMAL, syncIntervalMinutes: 'hourly' }, ['corp: syncIntervalMinutes must be a number greater than 0 (received "hourly")']],
  ['loginTimeoutSec range', { ...MINIMAL, loginTimeoutSec: 5 }, ['corp: loginTimeoutSec must be an integer in [10, 3600] (received 5)']],
  ['warmupTimeoutMs range', { ...MINIMAL, warmupTimeoutMs: 200000 }, ['corp: warmupTimeoutMs must be an integer in [0, 120000] (received 200000)']],
  ['httpTimeoutMs range', { ...MINIMAL, httpTimeoutMs: 10 }, ['corp: httpTimeoutMs must be an integer in [100, 600000] (received 10)']],
  ['tokenExpirySkewMs negative', { ...MINIMAL, tokenExpirySkewMs: -1 }, ['corp: tokenExpirySkewMs must be an integer in [0, 600000] (received -1)']],
  ['refreshWindow.assumedLifetimeSec', { ...MINIMAL, refreshWindow: { assumedLifetimeSec: 1 } }, ['corp: refreshWindow.assumedLifetimeSec must be an integer in [10, 86400] (received 1)']],
  ['refreshWindow not an object', { ...MINIMAL, refreshWindow: 300 }, ['corp: refreshWindow must be an object (received 300)']],
  ['redirectPath without slash', { ...MINIMAL, redirectPath: 'callback' }, ['corp: redirectPath must be a URL path starting with "/" (no query or fragment) (received "callback")']],
  ['redirectPath with query', { ...MINIMAL, redirectPath: '/cb?x=1' }, ['corp: redirectPath must be a URL path starting with "/" (no query or fragment) (received "/cb?x=1")']],
  ['modelsPath with space', { ...MINIMAL, modelsPath: 'my models' }, ['corp: modelsPath must be an absolute http(s) URL, a path starting with "/", or a path relative to baseURL (received "my models")']],
  ['tokenEndpoint not a URL', { ...MINIMAL, tokenEndpoint: '/token' }, ['corp: tokenEndpoint must be an absolute http(s) URL (received "/token")']],
  ['nameOverrides not an object', { ...MINIMAL, nameOverrides: ['a'] }, ['corp: nameOverrides must be an object mapping model ids to display names (received an array)']],
  ['clientAuthMethod unknown', { ...MINIMAL, clientAuthMethod: 'tls_client_auth' }, ['corp: clientAuthMethod must be one of client_secret_basic, client_secret_post, none, private_key_jwt (received "tls_client_auth")']],
  ['basic without secret', { ...MINIMAL, clientAuthMethod: 'client_secret_basic' }, ['corp: clientSecret is required when clientAuthMethod is "client_secret_basic"']],
  ['post without secret', { ...MINIMAL, clientAuthMethod: 'client_secret_post' }, ['corp: clientSecret is required when clientAuthMethod is "client_secret_post"']],
  ['private_key_jwt without key', { ...MINIMAL, clientAuthMethod: 'private_key_jwt' }, ['corp: privateKey is required when clientAuthMethod is "private_key_jwt"']],
  ['privateKey public only, never echoed', { ...MINIMAL, privateKey: { kty: 'RSA', n: 'AQAB-secret-ish', e: 'AQAB' } }, ['corp: privateKey must be a private JWK object (with "kty" and "d") or {"file": "<path to a private JWK file>"}']],
  ['privateKey symmetric', { ...MINIMAL, privateKey: { kty: 'oct', k: 'c2VjcmV0', d: 'x' } }, ['corp: privateKey must be a private JWK object (with "kty" and "d") or {"file": "<path to a private JWK file>"}']],
  ['privateKey empty file', { ...MINIMAL, privateKey: { file: ' ' } }, ['corp: privateKey must be a private JWK object (with "kty" and "d") or {"file": "<path to a private JWK file>"}']],
  ['client_credentials without secret', { ...MINIMAL, authFlow: 'client_credentials' }, ['corp: clientSecret is required when authFlow is "client_credentials" (or set clientAuthMethod "private_key_jwt" with a privateKey, or a clientAssertionSource)']],
  ['client_credentials with none', { ...MINIMAL, authFlow: 'client_credentials', clientAuthMethod: 'none', clientSecret: 's3cret-value' }, ['corp: clientAuthMethod cannot be "none" when authFlow is "client_credentials": the client must authenticate']],
  ['jwt_bearer without source', { ...MINIMAL, authFlow: 'jwt_bearer' }, [`corp: subjectTokenSource is required when authFlow is "jwt_bearer" — set it to ${SOURCE_HINT}`]],
  ['token_exchange without source', { ...MINIMAL, authFlow: 'token_exchange' }, [`corp: subjectTokenSource is required when authFlow is "token_exchange" — set it to ${SOURCE_HINT}`]],
  ['github_actions without audience', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'github_actions' } }, ['corp: subjectTokenSource.audience is required for type "github_actions"']],
  ['github_actions blank audience', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'github_actions', audience: '' } }, ['corp: subjectTokenSource.audience must be a non-empty string (received "")']],
  ['file without path', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'file' } }, ['corp: subjectTokenSource.path is required for type "file"']],
  ['env without var', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'env' } }, ['corp: subjectTokenSource.var is required for type "env"']],
  ['kubernetes_sa blank path', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'kubernetes_sa', tokenPath: '' } }, ['corp: subjectTokenSource.tokenPath must be a non-empty string (received "")']],
  ['unknown source type', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'gitlab' } }, [`corp: subjectTokenSource.type must be one of ${SOURCE_TYPES} (received "gitlab")`]],
  ['source without type', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { audience: 'x' } }, [`corp: subjectTokenSource.type must be one of ${SOURCE_TYPES} (received nothing)`]],
  ['source not an object', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: 'github' }, ['corp: subjectTokenSource must be an object like {"type": "github_actions", "audience": "…"} (received "github")']],
  ['command empty, never echoed', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'command', command: [] } }, ['corp: subjectTokenSource.command must be a non-empty array of strings: the program, then its arguments (no shell)']],
  ['command as a shell string', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'command', command: 'get-token --secret abc' } }, ['corp: subjectTokenSource.command must be a non-empty array of strings: the program, then its arguments (no shell)']],
  ['command timeout range', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'command', command: ['t'], timeoutMs: 1000 } }, ['corp: subjectTokenSource.timeoutMs must be an integer in [5000, 120000] (received 1000)']],
  ['url source bad url', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'url', url: 'metadata' } }, ['corp: subjectTokenSource.url must be an absolute http(s) URL (received "metadata")']],
  ['url source bad headers, never echoed', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'url', url: 'http://169.254.169.254/token', headers: { 'bad header': 'Bearer abc' } } }, ['corp: subjectTokenSource.headers must be an object of header names to string values']],
  ['url source blank field', { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'url', url: 'http://h/t', field: '' } }, ['corp: subjectTokenSource.field must be a non-empty string naming a top-level JSON field (received "")']],
  ['actorTokenSource invalid', { ...MINIMAL, authFlow: 'token_exchange', subjectTokenSource: { type: 'env', var: 'S' }, actorTokenSource: { type: 'env' } }, ['corp: actorTokenSource.var is required for type "env"']],
  ['audience disagreement', { ...MINIMAL, audience: 'a', tokenExchangeAudience: 'b' }, ["corp: audience and tokenExchangeAudience disagree: set only one (audience is the RFC 8693 name, tokenExchangeAudience the reference's)"]],
  ['resource not a URI', { ...MINIMAL, resource: 'gateway' }, ['corp: resource must be an absolute URI without a fragment, or an array of them (RFC 8707) (received an array)']],
  ['subjectTokenType blank', { ...MINIMAL, subjectTokenType: '' }, ['corp: subjectTokenType must be a non-empty token type URI (e.g. urn:ietf:params:oauth:token-type:jwt) (received "")']],
  ['passthrough wrong type', { passthrough: 'yes', subjectTokenSource: { type: 'env', var: 'T' } }, [
    'corp: passthrough must be true, or an object {"header"?: string, "prefix"?: string} (received "yes")',
  ]],
  ['passthrough bad header', { passthrough: { header: 'x api key' }, subjectTokenSource: { type: 'env', var: 'T' } }, ['corp: passthrough.header must be an HTTP header name (received "x api key")']],
  ['passthrough without source', { passthrough: true }, ['corp: subjectTokenSource is required when passthrough is set (the subject token is the credential) — set it to ' + SOURCE_HINT]],
  ['block not an object', 'oauth' as unknown as Record<string, unknown>, ['corp: provider.corp.options.oauth2 must be an object (received string)']],
];

describe('validation messages', () => {
  it.each(CASES)('%s', (_what, block, expected) => {
    const result = parseBlock(block);
    expect(result.errors.map((issue) => issue.message)).toEqual(expected);
    expect(result.providers).toEqual([]);
    for (const issue of result.errors) {
      expect(issue.providerId).toBe('corp');
      expect(issue.source).toBe('provider.corp.options.oauth2');
    }
  });

  it('names the field path of each issue', () => {
    const [issue] = parseBlock({ ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'github_actions' } }).errors;
    expect(issue).toEqual({
      severity: 'error',
      providerId: 'corp',
      source: 'provider.corp.options.oauth2',
      field: 'subjectTokenSource.audience',
      message: 'corp: subjectTokenSource.audience is required for type "github_actions"',
    });
  });

  it('reports every independent problem of a block, once each', () => {
    expect(messagesOf({ issuer: 'nope', clientId: '', scopes: [], redirectPort: -1 })).toEqual([
      'corp: issuer must be an absolute http(s) URL (received "nope")',
      'corp: clientId must be a non-empty string (received "")',
      'corp: redirectPort must be an integer in [1, 65535] (received -1)',
      'corp: scopes is required: a non-empty list such as ["openid", "offline_access"] or "openid offline_access"',
    ]);
  });

  it('never echoes a secret field, nor a credential-shaped value in any field', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl';
    const secret = 'Zx81mQ0rT7vB2nK5pL9sW3yH6dF4gJ1c';
    const result = parseOpenCodeConfig({
      provider: {
        a: { options: { baseURL: BASE, oauth2: { ...MINIMAL, clientSecret: 42, audience: 5, authFlow: jwt } } },
        b: { options: { baseURL: BASE, oauth2: { ...MINIMAL, clientId: `Bearer ${secret}` , redirectPort: secret, privateKey: { kty: 'RSA', n: secret } } } },
        c: { options: { baseURL: BASE, oauth2: { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'command', command: [secret, 7] } } } },
        d: { options: { baseURL: BASE, oauth2: { ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'url', url: 'http://h/t', headers: { authorization: 7, other: secret } } } } },
      },
    });
    const text = JSON.stringify(result);
    expect(result.errors.length).toBeGreaterThanOrEqual(5);
    expect(text).not.toContain(jwt);
    expect(text).not.toContain(secret);
  });

  it('a shape-B entry without usable id is named by its position', () => {
    const result = parseOpenCodeConfig({ pluginConfig: { oauth2ModelSync: { servers: [{ issuer: ISSUER }, { id: 42 }, 'x'] } } });
    expect(result.errors.map((issue) => issue.message)).toEqual([
      'pluginConfig.oauth2ModelSync.servers[0]: id is required (the provider id OpenCode will use)',
      'pluginConfig.oauth2ModelSync.servers[1]: id must be a non-empty string (received 42)',
      'pluginConfig.oauth2ModelSync.servers[2]: must be an object',
    ]);
    expect(result.errors.every((issue) => issue.providerId === undefined)).toBe(true);
  });

  it('runtime fields: a bad value is an error and its default stays', () => {
    const result = parseOpenCodeConfig({
      pluginConfig: { oauth2ModelSync: { httpTimeoutMs: 'slow', tokenExpirySkewMs: 1.5, logLevel: 'verbose', cacheNamespace: '../x' } },
    });
    expect(result.errors.map((issue) => issue.message)).toEqual([
      'pluginConfig.oauth2ModelSync: cacheNamespace must be one path segment of letters, digits, ".", "_" or "-" (received "../x")',
      'pluginConfig.oauth2ModelSync: httpTimeoutMs must be an integer in [100, 600000] (received "slow")',
      'pluginConfig.oauth2ModelSync: tokenExpirySkewMs must be an integer in [0, 600000] (received 1.5)',
      'pluginConfig.oauth2ModelSync: logLevel must be one of trace, debug, info, warn, error (received "verbose")',
    ]);
    expect(result.runtime).toEqual({ cacheNamespace: 'tokens', httpTimeoutMs: 15000, tokenExpirySkewMs: 30000, logLevel: 'info' });
  });

  it('container errors: pluginConfig block and servers of the wrong type', () => {
    expect(parseOpenCodeConfig({ pluginConfig: { oauth2ModelSync: [] } }).errors.map((i) => i.message)).toEqual([
      'pluginConfig.oauth2ModelSync: must be an object',
    ]);
    expect(parseOpenCodeConfig({ pluginConfig: { oauth2ModelSync: { servers: {} } } }).errors.map((i) => i.message)).toEqual([
      'pluginConfig.oauth2ModelSync: servers must be an array of provider objects',
    ]);
    expect(parseOpenCodeConfig({}, { pluginOptions: 'x' }).errors.map((i) => i.message)).toEqual(['plugin options: must be an object']);
  });
});
