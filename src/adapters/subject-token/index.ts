/** Subject-token sources: small, composable, one interface; each read goes back to its source. */
import { commandSource } from './command.js';
import { envSource } from './env.js';
import { fileSource, kubernetesServiceAccountSource } from './file.js';
import { githubActionsSource } from './githubActions.js';
import type { SubjectTokenSource, SubjectTokenSourceConfig } from './types.js';
import { urlSource } from './url.js';

export type { SubjectReadContext, SubjectTokenSource, SubjectTokenSourceConfig } from './types.js';
export { MAX_SUBJECT_TOKEN_BYTES } from './types.js';
export { readJwtExpiry } from './jwtExpiry.js';
export { githubActionsSource } from './githubActions.js';
export {
  fileSource,
  kubernetesServiceAccountSource,
  readTokenFile,
  DEFAULT_KUBERNETES_TOKEN_PATH,
  KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH,
} from './file.js';
export { envSource } from './env.js';
export { commandSource, ALLOW_COMMANDS_ENV, DEFAULT_COMMAND_TIMEOUT_SEC } from './command.js';
export { urlSource } from './url.js';
export { subjectTokenError } from './errors.js';

/** The source a declarative config names. */
export function createSubjectTokenSource(config: SubjectTokenSourceConfig): SubjectTokenSource {
  switch (config.type) {
    case 'github_actions':
      return githubActionsSource(config.audience ? { audience: config.audience } : {});
    case 'kubernetes_sa':
      return kubernetesServiceAccountSource(config.tokenPath ? { tokenPath: config.tokenPath } : {});
    case 'file':
      return fileSource({ path: config.path });
    case 'env':
      return envSource({ var: config.var });
    case 'command': {
      const [program, ...rest] = typeof config.command === 'string' ? [config.command] : config.command;
      const timeoutSec = config.timeoutSec ?? (config.timeoutMs !== undefined ? config.timeoutMs / 1000 : undefined);
      return commandSource({ command: program ?? '', args: [...rest, ...(config.args ?? [])], ...(timeoutSec !== undefined ? { timeoutSec } : {}) });
    }
    case 'url':
      return urlSource(config);
  }
}
