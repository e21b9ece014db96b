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

describe('the error taxonomy', () => {
  it('TOKEN_ERROR_CODES lists each code once; every TokenError points at its troubleshooting entry', async () => {
    const { TOKEN_ERROR_CODES } = await import('../../src/errors.js');
    expect(new Set(TOKEN_ERROR_CODES).size).toBe(TOKEN_ERROR_CODES.length);
    for (const code of TOKEN_ERROR_CODES) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(new TokenError({ code, providerId: 'p', message: 'x' }).docs).toBe(`docs/troubleshooting.md#${code}`);
    }
    // Model discovery shares the taxonomy.
    expect(TOKEN_ERROR_CODES).toEqual(expect.arrayContaining(['unauthorized', 'forbidden', 'invalid_response']));
  });

  it('needsLogin / isPermanent / isTransient: no code is more than one of them', async () => {
    const { TOKEN_ERROR_CODES, needsLogin, isPermanent, isTransient } = await import('../../src/errors.js');
    for (const code of TOKEN_ERROR_CODES) expect([needsLogin(code), isPermanent(code), isTransient(code)].filter(Boolean).length).toBeLessThanOrEqual(1);
    expect((['invalid_grant', 'interaction_required', 'no_refresh_token'] as const).every(needsLogin)).toBe(true);
    expect((['invalid_client', 'invalid_scope', 'config'] as const).every(isPermanent)).toBe(true);
    expect((['transient', 'timeout', 'uncertain', 'lock_timeout'] as const).every(isTransient)).toBe(true);
  });

  it('fromErrorInfo is the inverse of toJSON: same text, no doubled prefix or fix', async () => {
    const { fromErrorInfo } = await import('../../src/errors.js');
    const original = new TokenError({ code: 'invalid_grant', providerId: 'corp', message: 'refresh token revoked', fix: 'log in again', status: 400, oauthError: 'invalid_grant' });
    const back = fromErrorInfo(original.toJSON());
    expect(back.message).toBe(original.message);
    expect(back.toJSON()).toEqual(original.toJSON());
  });
});
