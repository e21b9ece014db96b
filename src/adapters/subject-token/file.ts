import { setTimeout as sleep } from 'node:timers/promises';
import { readSafeFile } from '../safeFile.js';
import { subjectTokenError } from './errors.js';
import { MAX_SUBJECT_TOKEN_BYTES, type SubjectReadContext, type SubjectTokenSource } from './types.js';

/** kubelet swaps the `..data` symlink of a projected volume atomically; a read can fall in the gap. */
const SWAP_RETRY_DELAY_MS = 50;

class EmptyTokenFile extends Error {}

/** Bound on one read: a token file on a hung network mount must not stall the acquisition. */
const READ_TIMEOUT_MS = 5_000;

async function readOnce(path: string): Promise<string> {
  // Stat first, non-blocking open, size cap, time bound: a FIFO or a /dev/zero symlink is refused, not read.
  const text = (await readSafeFile(path, { maxBytes: MAX_SUBJECT_TOKEN_BYTES, timeoutMs: READ_TIMEOUT_MS })).trim();
  if (!text) throw new EmptyTokenFile();
  return text;
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
      if (code === 'ETIMEDOUT') {
        throw subjectTokenError(context.providerId, source, `reading ${path} took longer than ${READ_TIMEOUT_MS / 1000} s`, 'check the mount the token file is on');
      }
      if (code === 'ENOTREG' || code === 'EISDIR') {
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

import { DEFAULT_KUBERNETES_TOKEN_PATH } from '../../constants.js';
export { DEFAULT_KUBERNETES_TOKEN_PATH };
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
