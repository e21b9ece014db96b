import { describe, expect, it } from 'vitest';
import { MINIMAL, parseBlock, warningsOf } from './helpers.js';

describe('warnings: valid but probably not meant', () => {
  it('unknown fields, with a suggestion when one is close', () => {
    expect(warningsOf({ ...MINIMAL, clientID: 'x', redirect_port: 1, colour: 'blue' })).toEqual([
      'corp: unknown field "clientID" is ignored (did you mean "clientId"?)',
      'corp: unknown field "redirect_port" is ignored (did you mean "redirectPort"?)',
      'corp: unknown field "colour" is ignored',
    ]);
  });

  it('a typo that causes an error also gets its warning (the message explains the error)', () => {
    const result = parseBlock({ issuer: MINIMAL.issuer, scopes: 'openid', clientid: 'x' });
    expect(result.errors.map((e) => e.field)).toEqual(['clientId']);
    expect(result.warnings.map((w) => w.message)).toEqual(['corp: unknown field "clientid" is ignored (did you mean "clientId"?)']);
  });

  it('fields the chosen flow ignores', () => {
    expect(warningsOf({ ...MINIMAL, authFlow: 'device_code', redirectPort: 8765, redirectPath: '/cb' })).toEqual([
      'corp: redirectPort only applies to authFlow "authorization_code"; it is ignored for "device_code"',
      'corp: redirectPath only applies to authFlow "authorization_code"; it is ignored for "device_code"',
    ]);
    expect(warningsOf({ ...MINIMAL, authFlow: 'client_credentials', clientSecret: 'abcd', subjectTokenSource: { type: 'env', var: 'T' }, pkce: true })).toEqual([
      'corp: subjectTokenSource is ignored for authFlow "client_credentials" (only jwt_bearer, token_exchange and passthrough use it)',
      'corp: pkce only applies to authorization_code and device_code; it is ignored for "client_credentials"',
    ]);
    expect(warningsOf({ ...MINIMAL, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'env', var: 'T' }, actorTokenSource: { type: 'env', var: 'A' } })).toEqual([
      'corp: actorTokenSource is ignored for authFlow "jwt_bearer" (only token_exchange sends an actor token)',
    ]);
    expect(warningsOf({ ...MINIMAL, actorTokenType: 'urn:x' })).toEqual(['corp: actorTokenType is ignored without actorTokenSource']);
  });

  it('credentials the auth method ignores', () => {
    const jwk = { kty: 'RSA', n: 'n', e: 'AQAB', d: 'd' };
    expect(warningsOf({ ...MINIMAL, clientSecret: 'abcd', clientAuthMethod: 'none' })).toEqual(['corp: clientSecret is ignored with clientAuthMethod "none"']);
    expect(warningsOf({ ...MINIMAL, clientSecret: 'abcd', privateKey: jwk })).toEqual(['corp: privateKey is ignored with clientAuthMethod "client_secret_post"']);
    expect(warningsOf({ ...MINIMAL, clientSecret: 'abcd', privateKey: jwk, clientAuthMethod: 'private_key_jwt' })).toEqual([
      'corp: clientSecret is ignored with clientAuthMethod "private_key_jwt"',
    ]);
  });

  it('passthrough ignores authFlow', () => {
    expect(warningsOf({ passthrough: true, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'env', var: 'T' } })).toEqual([
      'corp: authFlow is ignored: a passthrough provider sends the subject token itself',
    ]);
  });

  it('plain http on a non-loopback identity server is refused, with allowInsecureHttp it is a loud warning; loopback is fine', () => {
    const refused = parseBlock({ ...MINIMAL, issuer: 'http://idp.corp.example', tokenEndpoint: 'http://127.0.0.1:8080/token' });
    expect(refused.providers).toEqual([]);
    expect(refused.errors.map((e) => e.message)).toEqual([
      'corp: issuer uses plain http on a non-loopback host, so credentials would cross the network unencrypted: use https (or, only for a trusted network, set allowInsecureHttp: true)',
    ]);
    expect(warningsOf({ ...MINIMAL, issuer: 'http://idp.corp.example', allowInsecureHttp: true })).toEqual([
      'corp: issuer uses plain http on a non-loopback host (allowed by allowInsecureHttp): tokens and secrets cross the network UNENCRYPTED',
    ]);
    expect(warningsOf({ ...MINIMAL, issuer: 'http://localhost:8080/realms/x' })).toEqual([]);
  });

  it('warnings never stop a provider', () => {
    const result = parseBlock({ ...MINIMAL, authFlow: 'device_code', redirectPort: 8765, colour: 'blue' });
    expect(result.providers).toHaveLength(1);
    expect(result.errors).toEqual([]);
    expect(result.warnings.every((w) => w.severity === 'warning' && w.providerId === 'corp')).toBe(true);
  });
});
