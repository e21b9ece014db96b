import { expect } from 'vitest';
import { assertionGrantMachine, type AssertionGrantInput } from '../../src/machines/assertionGrant.js';
import { errorInfo, metadata, subjectRead, token } from './fixtures.js';
import { describeModel } from '../support/modelTesting.js';

const base: AssertionGrantInput = { providerId: 'p', grant: 'client_credentials', scopes: ['api:read'] };

describeModel({
  name: 'assertionGrant',
  machine: assertionGrantMachine,
  variants: {
    clientCredentials: base,
    jwtBearer: { ...base, grant: 'jwt_bearer' },
    tokenExchange: {
      ...base,
      grant: 'token_exchange',
      audience: 'gateway',
      resource: 'https://gateway.example',
      requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
    },
    tokenExchangeWithActor: { ...base, grant: 'token_exchange', useActorToken: true },
  },
  fakes: { discoverEndpoints: 'promise', readSubjectToken: 'promise', readActorToken: 'promise', requestToken: 'promise' },
  payloads: {
    'xstate.done.actor.discover': [{ output: metadata }],
    'xstate.error.actor.discover': [{ error: errorInfo('transient') }],
    'xstate.done.actor.subjectToken': [
      { output: subjectRead() }, // 10 minutes left
      { output: subjectRead({ expiresAt: 31_000 }) }, // 30 s left: re-fetched once
      { output: subjectRead({ expiresAt: 1_000 }) }, // already expired
      { output: subjectRead({ expiresAt: undefined, token: 'opaque' }) }, // not a JWT: nothing to schedule on
    ],
    'xstate.error.actor.subjectToken': [{ error: errorInfo('subject_token') }],
    'xstate.done.actor.actorToken': [{ output: subjectRead({ token: 'ACTOR-jwt' }) }],
    'xstate.error.actor.actorToken': [{ error: errorInfo('subject_token') }],
    'xstate.done.actor.token': [{ output: token({ expiresAt: 3_601_000 }) }],
    'xstate.error.actor.token': [{ error: errorInfo('invalid_grant', { oauthError: 'invalid_grant', status: 400 }) }],
  },
  check: (snap, { fakes }) => {
    const requests = (fakes.inputs.get('token') ?? []) as { grantType: string; params: Record<string, string | undefined> }[];
    for (const r of requests) {
      const grant = snap.context.grant;
      if (grant === 'client_credentials') expect(r.grantType).toBe('client_credentials');
      if (grant === 'jwt_bearer') expect(r.params.assertion).toBe(snap.context.subject.token);
      if (grant === 'token_exchange') {
        expect(r.params.subject_token).toBe(snap.context.subject.token);
        expect(r.params.subject_token_type).toBe('urn:ietf:params:oauth:token-type:jwt');
        expect(r.params.actor_token).toBe(snap.context.useActorToken ? 'ACTOR-jwt' : undefined);
      }
    }
    // Never more than one re-fetch of the subject per acquisition.
    expect((fakes.inputs.get('subjectToken') ?? []).length).toBeLessThanOrEqual(2);
    if (snap.status === 'done' && snap.output.status === 'succeeded') {
      const exp = snap.context.subject?.expiresAt;
      if (exp !== undefined) {
        expect(snap.output.token.expiresAt).toBeLessThanOrEqual(exp);
        expect(snap.output.token.refreshBy).toBeLessThanOrEqual(exp);
      }
      expect(snap.output.token.refreshToken).toBeUndefined();
    }
    if (snap.status === 'done' && snap.output.status === 'failed') {
      expect(JSON.stringify(snap.output.error)).not.toMatch(/SUBJECT-jwt|ACTOR-jwt|AT-secret/);
    }
  },
});
