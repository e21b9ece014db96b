import { sendOnce } from './client.js';
import { appendFormParams, clientAuthParts, readClientAssertion } from './clientAuth.js';
import type { HttpEnv } from './env.js';
import { sendWithRetry, type FinalReply } from './retry.js';
import type { AudienceHints, ClientAuth, HttpOptions } from './types.js';

export interface ClientFormPost extends HttpOptions, AudienceHints {
  /** The endpoint, already checked with `requireEndpointUrl`. */
  url: string;
  /** Names the endpoint in messages: "device authorization endpoint", "revocation endpoint". */
  what: string;
  clientAuth: ClientAuth;
  /** Form fields; undefined values are left out, and client authentication fields win over these. */
  params: Record<string, string | readonly string[] | undefined>;
  /** The request's own secret values, scrubbed from any body preview. */
  knownSecrets: readonly string[];
}

/**
 * POSTs a form authenticated as the client through the single retry layer, for requests that are safe
 * to send again (not one-shot). Client authentication is built per attempt, so a private_key_jwt
 * assertion is signed afresh each time.
 * @see RFC 6749 §2.3 (client authentication), RFC 8628 §3.1, RFC 7009 §2.1
 */
export async function postClientForm(post: ClientFormPost, env: HttpEnv): Promise<FinalReply> {
  const clientAssertion = post.clientAuth.method === 'client_assertion' ? await readClientAssertion(post.clientAuth, post) : undefined;
  return sendWithRetry(
    async (signal) => {
      const auth = await clientAuthParts(post.clientAuth, {
        providerId: post.providerId,
        endpoint: post.url,
        now: () => env.now() + env.serverClock.offsetFor(post.url),
        ...(post.issuer ? { issuer: post.issuer } : {}),
        ...(post.tokenEndpoint ? { tokenEndpoint: post.tokenEndpoint } : {}),
        ...(clientAssertion !== undefined ? { clientAssertion } : {}),
      });
      const form = new URLSearchParams();
      appendFormParams(form, post.params);
      for (const [name, value] of Object.entries(auth.params)) form.set(name, value);
      return sendOnce(
        env.client,
        { method: 'POST', url: post.url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth.headers }, body: form.toString() },
        signal,
      );
    },
    {
      providerId: post.providerId,
      what: post.what,
      url: post.url,
      oneShot: false,
      knownSecrets: clientAssertion ? [...post.knownSecrets, clientAssertion] : post.knownSecrets,
      timeoutMs: post.timeoutMs ?? env.timeoutMs,
      ...(post.deadline !== undefined ? { deadline: post.deadline } : {}),
      ...(post.signal ? { signal: post.signal } : {}),
    },
    env,
  );
}
