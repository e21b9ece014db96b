import { redactUrl, scrubSecrets } from '../redact.js';
import { deadlineSignal, subjectTokenError } from './errors.js';
import { MAX_SUBJECT_TOKEN_BYTES, type SubjectTokenSource } from './types.js';

const SOURCE = 'url';

/** `a.b.c` into a JSON document; only plain member names, no arrays (the shapes seen in metadata services). */
function pick(document: unknown, field: string): unknown {
  return field.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), document);
}

/**
 * A token fetched with GET from a local credential service (cloud metadata, a sidecar). Header values
 * are treated as secrets: they never reach a message.
 */
export function urlSource(options: { url: string; headers?: Record<string, string>; field?: string; timeoutSec?: number }): SubjectTokenSource {
  const where = redactUrl(options.url);
  return {
    describe: () => `url ${where}`,
    read: async (context) => {
      const secrets = Object.values(options.headers ?? {});
      let response: Response;
      try {
        response = await fetch(options.url, {
          headers: { accept: options.field ? 'application/json' : '*/*', ...options.headers },
          redirect: 'manual',
          signal: deadlineSignal((options.timeoutSec ?? 10) * 1000, context.signal),
        });
      } catch (error) {
        throw subjectTokenError(context.providerId, SOURCE, `GET ${where} failed (${(error as Error).name})`, 'check that the token service is running and reachable', {
          code: 'transient',
          cause: error,
        });
      }
      const body = (await response.text()).slice(0, MAX_SUBJECT_TOKEN_BYTES + 1);
      if (!response.ok) {
        const preview = scrubSecrets(body.slice(0, 200), secrets).replace(/\s+/g, ' ').trim();
        throw subjectTokenError(context.providerId, SOURCE, `GET ${where} answered ${response.status}${preview ? `: ${preview}` : ''}`, 'check the URL and the headers it needs', {
          code: response.status >= 500 || response.status === 429 ? 'transient' : 'subject_token',
          status: response.status,
        });
      }
      if (body.length > MAX_SUBJECT_TOKEN_BYTES) {
        throw subjectTokenError(context.providerId, SOURCE, `GET ${where} answered more than 64 KiB, so not a token`, 'point the source at the token endpoint itself');
      }
      let token: unknown = body.trim();
      if (options.field) {
        try {
          token = pick(JSON.parse(body), options.field);
        } catch {
          token = undefined;
        }
      }
      if (typeof token !== 'string' || !token.trim()) {
        throw subjectTokenError(
          context.providerId,
          SOURCE,
          options.field ? `the answer of ${where} has no string field "${options.field}"` : `GET ${where} answered an empty body`,
          'check the `field` option against what the service returns',
        );
      }
      return token.trim();
    },
  };
}
