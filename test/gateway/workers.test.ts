/**
 * The Cloudflare Workers entry, called as Workers call it: `fetch(request, env)` with string bindings. It runs
 * here on Node's fetch, Request and Response, which are the same Web APIs.
 */
import { describe, expect, it } from 'vitest';
import { UPSTREAM_KEY, useCiAndUpstream } from './support.js';

const lab = useCiAndUpstream();

describe('Workers entry', () => {
  it('configures itself from env bindings, validates, and forwards with the key', async () => {
    const { default: worker } = await import('../../src/gateway/workers.js');
    const env = {
      OIDC_ISSUER: lab.ci.issuer,
      OIDC_AUDIENCE: 'workers-aud',
      UPSTREAM_URL: lab.upstream.url,
      UPSTREAM_AUTH_HEADER: 'x-api-key',
      UPSTREAM_API_KEY: UPSTREAM_KEY,
      SOME_BINDING: { notAString: true },
    };
    const request = (token: string) =>
      new Request('https://gw.example.workers.dev/v1/messages', { method: 'POST', headers: { 'x-api-key': token }, body: '{"a":1}' });
    const ok = await worker.fetch(request(await lab.ci.mint({ aud: 'workers-aud' })), env);
    expect(ok.status).toBe(200);
    expect(lab.upstream.requests.at(-1)).toMatchObject({ url: '/v1/messages', headers: { 'x-api-key': UPSTREAM_KEY } });
    expect(lab.upstream.requests.at(-1)!.body.toString()).toBe('{"a":1}');
    const refused = await worker.fetch(request(await lab.ci.mint({ aud: 'elsewhere' })), env);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ check: 'aud' });
  });
});
