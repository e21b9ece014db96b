import type { Logger } from '../adapters/logger.js';
import type { LifecycleEmitted } from '../machines/tokenLifecycle.js';

/** The lifecycle's emitted events as log lines, with stable names (docs/plugin.md lists them). */
export function logEmitted(logger: Logger, providerId: string, now: () => number, event: LifecycleEmitted) {
  switch (event.type) {
    case 'token.renewed':
      logger.info('token_renewed', {
        providerId,
        how: event.how,
        generation: event.generation,
        expiresInSec: Math.round((event.expiresAt - now()) / 1000),
      });
      break;
    case 'token.failed':
      logger.warn('token_failed', { providerId, errorCode: event.error.code, message: event.error.message });
      break;
    case 'store.persist_failed':
      logger.error('store_persist_failed', { providerId, errorCode: event.error.code, message: event.error.message });
      break;
    case 'logged_out':
      logger.info('logged_out', { providerId });
      break;
  }
}
