import { describe, expect, it } from 'vitest';
import { cacheDirFor, cacheRoot, defaultCacheDir } from '../../src/adapters/storage/cacheDir.js';
import { storeKey } from '../../src/adapters/storage/storeKey.js';
import { keyInput } from './helpers.js';

const ID_SHAPE = /^[A-Za-z0-9._-]{1,48}-[0-9a-f]{12}$/;

describe('storeKey', () => {
  it('ignores scope order and duplicates, and omitted equals undefined', () => {
    const a = storeKey(keyInput({ scopes: ['openid', 'offline_access', 'models'] }));
    const b = storeKey(keyInput({ scopes: ['models', 'openid', 'offline_access', 'openid'], audience: undefined }));
    expect(b.id).toBe(a.id);
    expect(a.descriptor.scopes).toEqual(['models', 'offline_access', 'openid']);
    expect('audience' in a.descriptor).toBe(false);
    expect(a.id).toMatch(ID_SHAPE);
  });

  it('gives another id for any change of issuer, client, flow, scopes, audience or resource', () => {
    const variants = [
      keyInput(),
      keyInput({ issuer: 'https://idp.example.test/realms/other' }),
      keyInput({ clientId: 'opencode-2' }),
      keyInput({ flow: 'device_code' }),
      keyInput({ scopes: ['openid'] }),
      keyInput({ scopes: ['openid', 'offline_access', 'models'] }),
      keyInput({ audience: 'https://gateway.example.test' }),
      keyInput({ audience: 'https://gateway2.example.test' }),
      keyInput({ resource: 'https://gateway.example.test/v1' }),
      keyInput({ providerId: 'corp-2' }),
    ];
    const ids = new Set(variants.map((input) => storeKey(input).id));
    expect(ids.size).toBe(variants.length);
  });

  it('sanitises odd provider ids into a safe, bounded file name', () => {
    const odd = storeKey(keyInput({ providerId: '../corp gw:prod/ü' }));
    expect(odd.id.startsWith('.._corp_gw_prod__-')).toBe(true);
    expect(odd.id).toMatch(ID_SHAPE);
    expect(odd.providerId).toBe('../corp gw:prod/ü');

    const long = storeKey(keyInput({ providerId: 'x'.repeat(200) }));
    expect(long.id).toBe(`${'x'.repeat(48)}-${long.id.slice(-12)}`);

    expect(storeKey(keyInput({ providerId: '' })).id).toMatch(/^_-[0-9a-f]{12}$/);
  });

  it('keeps providers whose ids sanitise alike apart', () => {
    const slash = storeKey(keyInput({ providerId: 'corp/a' }));
    const colon = storeKey(keyInput({ providerId: 'corp:a' }));
    expect(slash.id.slice(0, 7)).toBe(colon.id.slice(0, 7));
    expect(slash.id).not.toBe(colon.id);
  });
});

describe('defaultCacheDir', () => {
  it('uses an absolute XDG_CACHE_HOME on Linux, else ~/.cache', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/var/cache/me' }, 'linux', '/home/me')).toBe('/var/cache/me/opencode-oauth-machines/tokens');
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'relative/cache' }, 'linux', '/home/me')).toBe('/home/me/.cache/opencode-oauth-machines/tokens');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '' }, 'freebsd', '/home/me')).toBe('/home/me/.cache/opencode-oauth-machines/tokens');
    expect(defaultCacheDir({}, 'linux', '/home/me')).toBe('/home/me/.cache/opencode-oauth-machines/tokens');
  });

  it('uses ~/Library/Caches on macOS, whatever XDG says', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x' }, 'darwin', '/Users/me')).toBe('/Users/me/Library/Caches/opencode-oauth-machines/tokens');
  });

  it('uses %LOCALAPPDATA% on Windows, else ~/AppData/Local', () => {
    expect(defaultCacheDir({ LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' }, 'win32', 'C:\\Users\\me')).toBe(
      'C:\\Users\\me\\AppData\\Local\\opencode-oauth-machines\\tokens',
    );
    expect(defaultCacheDir({}, 'win32', 'C:\\Users\\me')).toBe('C:\\Users\\me\\AppData\\Local\\opencode-oauth-machines\\tokens');
  });

  it('takes a namespace, which must be one plain path segment', () => {
    expect(cacheDirFor('models', {}, 'linux', '/home/me')).toBe('/home/me/.cache/opencode-oauth-machines/models');
    expect(cacheRoot({}, 'linux', '/home/me')).toBe('/home/me/.cache/opencode-oauth-machines');
    expect(() => cacheDirFor('../escape', {}, 'linux', '/home/me')).toThrow(RangeError);
    expect(() => cacheDirFor('..', {}, 'linux', '/home/me')).toThrow(RangeError);
  });
});
