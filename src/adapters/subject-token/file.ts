import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { subjectTokenError } from './errors.js';
import { MAX_SUBJECT_TOKEN_BYTES, type SubjectReadContext, type SubjectTokenSource } from './types.js';

/** kubelet swaps the `..data` symlink of a projected volume atomically; a read can fall in the gap. */
const SWAP_RETRY_DELAY_MS = 50;

class EmptyTokenFile extends Error {}

async function readOnce(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    if (stat.size > MAX_SUBJECT_TOKEN_BYTES) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
    const buffer = Buffer.alloc(MAX_SUBJECT_TOKEN_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_SUBJECT_TOKEN_BYTES) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
    const text = buffer.subarray(0, bytesRead).toString('utf8').trim();
    if (!text) throw new EmptyTokenFile();
    return text;
  } finally {
    await handle.close();
  }
}

/**
 * Read a token file: open → stat → read → close, trimmed, at most 64 KiB, regular files only. One retry
 * after a short pause on ENOENT or an empty read, which is what a read during a kubelet symlink swap sees.
 */
export async function readTokenFile(path: string, source: string, context: SubjectReadContext): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await readOnce(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const swapGap = code === 'ENOENT' || error instanceof EmptyTokenFile;
      if (swapGap && attempt === 0) {
        await sleep(SWAP_RETRY_DELAY_MS, undefined, context.signal ? { signal: context.signal } : undefined);
        continue;
      }
      if (error instanceof EmptyTokenFile) {
        throw subjectTokenError(context.providerId, source, `file at ${path} is empty`, 'check that the token is written to this path (projected volume, CI step)');
      }
      if (code === 'ENOENT') {
        throw subjectTokenError(context.providerId, source, `no file at ${path}`, 'check the volume mount and the configured path');
      }
      if (code === 'EACCES' || code === 'EPERM') {
        throw subjectTokenError(context.providerId, source, `no permission to read ${path}`, 'make the token file readable by the user running the agent');
      }
      if (code === 'ENOTFILE' || code === 'EISDIR') {
        throw subjectTokenError(context.providerId, source, `${path} is not a regular file`, 'point the path at the token file itself, not its directory');
      }
      if (code === 'EFBIG') {
        throw subjectTokenError(
          context.providerId,
          source,
          `${path} is larger than ${MAX_SUBJECT_TOKEN_BYTES / 1024} KiB, so it is not a token`,
          'point the path at the token file',
        );
      }
      throw subjectTokenError(context.providerId, source, `failed to read ${path} (${code ?? 'unknown error'})`, 'check the path and its permissions', { cause: error });
    }
  }
}

/** A token kept in a file that something else keeps fresh (Azure's AZURE_FEDERATED_TOKEN_FILE, a CI step). */
export function fileSource(options: { path: string }): SubjectTokenSource {
  return {
    describe: () => `file ${options.path}`,
    read: (context) => readTokenFile(options.path, 'file', context),
  };
}

/** The reference's default: a projected volume mounted at /var/run/secrets/tokens with path `oauth2/token`. */
export const DEFAULT_KUBERNETES_TOKEN_PATH = '/var/run/secrets/tokens/oauth2/token';
/** The pod's default service-account token; its audience is the API server unless projected otherwise. */
export const KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * A Kubernetes projected service-account token. Set `serviceAccountToken.audience` in the projected
 * volume to what the IdP expects as `aud`; kubelet rotates the file at ~80% of its lifetime.
 */
export function kubernetesServiceAccountSource(options: { tokenPath?: string } = {}): SubjectTokenSource {
  const path = options.tokenPath ?? DEFAULT_KUBERNETES_TOKEN_PATH;
  return {
    describe: () => `kubernetes_sa ${path}`,
    read: (context) => readTokenFile(path, 'kubernetes_sa', context),
  };
}
