import { describe, expect, it } from 'vitest';
import { bodyPreview, safeDescription } from '../../src/adapters/http/responseBody.js';
import { redactFields, scrubSecrets } from '../../src/adapters/redact.js';
import { inspectorFromEnv } from '../../src/plugin/inspector.js';

/** Issue 10.9: the scrubbing gaps found by the red-team pass, each as it was reproduced. */

const json = new Headers({ 'content-type': 'application/json' });

describe('scrubbing gaps (issue 10.9)', () => {
  it('a client secret with a tab is scrubbed whole from a one-line preview and a description', () => {
    const secret = 'Sx9k\tq2LmPw7Zr';
    const body = JSON.stringify({ error: 'invalid_client', error_description: `client secret ${secret} is wrong` });
    for (const shown of [bodyPreview(json, body, 200, [secret]), safeDescription(`client secret ${secret} is wrong`, 200, [secret])!]) {
      expect(shown).toContain('[redacted]');
      expect(shown).not.toContain('Sx9k');
      expect(shown).not.toContain('q2LmPw7Zr');
    }
  });

  it('a refresh token echoed with `\\/` escapes (PHP, Java JSON encoders) is scrubbed as a known secret', () => {
    const refreshToken = 'rt/8a9b0c/Df';
    const body = `{"error":"invalid_grant","error_description":"grant ${refreshToken.replace(/\//g, '\\/')} was revoked"}`;
    const shown = bodyPreview(json, body, 200, [refreshToken]);
    expect(shown).not.toContain('8a9b0c');
    expect(scrubSecrets(body, [refreshToken])).not.toContain('8a9b0c');
  });

  it('an all-lower-case authorization code is a secret, not a word; error codes and states stay readable', () => {
    const code = 'qwertyuiopasdfghjklz';
    expect(redactFields({ code })).toEqual({ code: '[redacted]' });
    expect(scrubSecrets(`callback with code=${code}&state=x`)).not.toContain(code);
    expect(scrubSecrets(`{"code":"${code}"}`)).not.toContain(code);
    expect(redactFields({ code: 'invalid_grant', state: 'refreshing' })).toEqual({ code: 'invalid_grant', state: 'refreshing' });
    expect(redactFields({ code: 'authorization_pending', state: 'needsLogin' })).toEqual({ code: 'authorization_pending', state: 'needsLogin' });
  });

  it('the inspector relay URL is logged without its credentials', async () => {
    const lines: unknown[] = [];
    const record = (event: string, fields?: Record<string, unknown>) => void lines.push({ event, fields });
    const logger = { debug: record, info: record, warn: record, error: record };
    class FakeSocket {
      constructor(readonly url: string) {}
      addEventListener() {}
      removeEventListener() {}
      send() {}
      close() {}
      readyState = 0;
    }
    const module = { createInspector: () => ({ inspect: () => {}, start: () => {}, stop: () => {} }) };
    const importModule = async (name: string) => (name === 'ws' ? { default: FakeSocket } : module);
    const url = 'ws://relay-user:Pa55w0rdRelay@127.0.0.1:9/inspect?token=relaytoken123';
    const inspector = await inspectorFromEnv({ OPENCODE_OAUTH_INSPECT: url }, logger, importModule);
    inspector?.stop();
    const text = JSON.stringify(lines);
    expect(text).toContain('inspector_enabled');
    expect(text).toContain('ws://127.0.0.1:9/inspect');
    expect(text).not.toContain('Pa55w0rdRelay');
    expect(text).not.toContain('relaytoken123');
  });
});
