import { redactUrl, scrubSecrets } from '../redact.js';
import { deadlineSignal, subjectTokenError } from './errors.js';
import { MAX_SUBJECT_TOKEN_BYTES, type SubjectTokenSource } from './types.js';

const SOURCE = 'github_actions';
const TIMEOUT_MS = 10_000;
const FIX_PERMISSIONS = 'add `permissions: id-token: write` to the job (pull requests from forks cannot mint OIDC tokens)';

/**
 * A GitHub Actions OIDC ID token, minted afresh on every read from the runner's token service.
 * `audience` is added as a query parameter next to the `api-version` GitHub already puts in the URL.
 * @see https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
 */
export function githubActionsSource(options: { audience?: string; timeoutMs?: number } = {}): SubjectTokenSource {
  return {
    describe: () => (options.audience ? `github_actions (audience ${options.audience})` : 'github_actions'),
    read: async (context) => {
      const env = context.env ?? process.env;
      const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
      const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
      if (!requestUrl || !requestToken) {
        throw subjectTokenError(
          context.providerId,
          SOURCE,
          'ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set',
          FIX_PERMISSIONS,
        );
      }
      let url: URL;
      try {
        url = new URL(requestUrl);
      } catch {
        throw subjectTokenError(context.providerId, SOURCE, 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL', 'run inside a GitHub Actions job');
      }
      if (options.audience) url.searchParams.set('audience', options.audience);
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { authorization: `Bearer ${requestToken}`, accept: 'application/json' },
          redirect: 'manual',
          signal: deadlineSignal(options.timeoutMs ?? TIMEOUT_MS, context.signal),
        });
      } catch (error) {
        throw subjectTokenError(context.providerId, SOURCE, `OIDC token request to ${redactUrl(url)} failed (${(error as Error).name})`, 'retry; the runner token service may be briefly unavailable', {
          code: 'transient',
          cause: error,
        });
      }
      const body = (await response.text()).slice(0, MAX_SUBJECT_TOKEN_BYTES);
      if (!response.ok) {
        const preview = scrubSecrets(body.slice(0, 200), [requestToken]).replace(/\s+/g, ' ').trim();
        throw subjectTokenError(
          context.providerId,
          SOURCE,
          `OIDC token request failed (${response.status})${preview ? `: ${preview}` : ''}`,
          response.status === 401 || response.status === 403 ? FIX_PERMISSIONS : 'retry later; check the runner token service status',
          { code: response.status >= 500 || response.status === 429 ? 'transient' : 'subject_token', status: response.status },
        );
      }
      let value: unknown;
      try {
        value = (JSON.parse(body) as { value?: unknown }).value;
      } catch {
        value = undefined;
      }
      if (typeof value !== 'string' || !value) {
        throw subjectTokenError(context.providerId, SOURCE, 'the response had no `value` field', 'GitHub may have changed the API shape; report it');
      }
      return value;
    },
  };
}
