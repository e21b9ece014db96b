import { expect } from 'vitest';
import { subjectTokenPassthroughMachine, type SubjectTokenPassthroughInput } from '../../src/machines/subjectTokenPassthrough.js';
import { errorInfo, subjectRead } from './fixtures.js';
import { describeModel } from '../support/modelTesting.js';

const base: SubjectTokenPassthroughInput = { providerId: 'p' };

describeModel({
  name: 'subjectTokenPassthrough',
  machine: subjectTokenPassthroughMachine,
  variants: { bearer: base, apiKey: { ...base, header: 'X-Api-Key', assumedLifetimeSec: 120 } },
  fakes: { readSubjectToken: 'promise' },
  payloads: {
    'xstate.done.actor.subjectToken': [
      { output: subjectRead() },
      { output: subjectRead({ expiresAt: 31_000 }) },
      { output: subjectRead({ expiresAt: 1_000 }) },
      { output: subjectRead({ expiresAt: undefined, token: 'opaque' }) },
    ],
    'xstate.error.actor.subjectToken': [{ error: errorInfo('subject_token') }],
  },
  check: (snap) => {
    if (snap.status !== 'done' || snap.output.status !== 'succeeded') return;
    const t = snap.output.token;
    const apiKey = snap.context.header !== undefined;
    expect(t.tokenType).toBe(apiKey ? 'x-api-key' : 'Bearer');
    expect((t as any).credentialHeader).toEqual(apiKey ? { name: 'x-api-key', prefix: '' } : { name: 'authorization', prefix: 'Bearer ' });
    expect(t.refreshBy).toBeLessThan(t.expiresAt);
    expect(t.refreshBy).toBeGreaterThanOrEqual(t.issuedAt);
    if (t.accessToken === 'opaque') {
      expect(t.expiryAssumed).toBe(true);
      expect(t.expiresAt).toBe(t.issuedAt + (snap.context.assumedLifetimeSec ?? 300) * 1000);
    } else {
      // The subject's own exp, and never one already past.
      expect([601_000, 31_000]).toContain(t.expiresAt);
      expect(t.expiryAssumed).toBeUndefined();
    }
  },
});
