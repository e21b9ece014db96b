import { describe, expect, it } from 'vitest';
import { TokenError, toErrorInfo } from '../../src/errors.js';

describe('TokenError', () => {
  it('names the provider and the fix in its message and serialises without the cause', () => {
    const error = new TokenError({ code: 'invalid_client', providerId: 'corp', message: 'client authentication failed', fix: 'check clientSecret', cause: new Error('secret-ish detail') });
    expect(error.message).toBe('[corp] client authentication failed — check clientSecret');
    expect(JSON.stringify(error.toJSON())).not.toContain('secret-ish');
    expect(error.toJSON()).toMatchObject({ code: 'invalid_client', providerId: 'corp' });
  });

  it('never copies the message of a foreign error', () => {
    const info = toErrorInfo('corp', new Error('Bearer eyJhbGciOi.leaked.token'));
    expect(info.message).not.toContain('eyJ');
    expect(info.code).toBe('transient');
  });
});
