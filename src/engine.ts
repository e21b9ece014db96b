/**
 * The public engine API for agents other than OpenCode, curated: every name here is deliberate (the list is
 * checked in as test/unit/exports.engine.txt). The machines themselves are `opencode-oauth-machines/machines`.
 *
 *   const engine = createTokenEngine({ servers: [{ id, issuer, clientId, scopes, authFlow, ... }] });
 *   const res = await engine.fetch('corp')('https://gateway/v1/models');
 */

// The engine, its options, results and events.
export {
  createTokenEngine,
  type TokenEngine,
  type TokenEngineOptions,
  type GetTokenOptions,
  type LoginOptions,
  type ProviderStatus,
  type AuthFetchOptions,
  type EngineEvent,
  type EngineEventType,
  type EngineListener,
  type ModelSyncSettings,
} from './runtime/index.js';
export type { TokenSet, FlowName } from './machines/token.js';
export type { FlowNotice } from './flows/index.js';

// One error shape, its codes (also as a runtime list) and what they mean.
export {
  TokenError,
  TOKEN_ERROR_CODES,
  needsLogin,
  isPermanent,
  isTransient,
  isTokenError,
  type TokenErrorCode,
  type TokenErrorInfo,
} from './errors.js';

// Subject-token sources: the factories, and the interface a custom source implements.
export {
  createSubjectTokenSource,
  githubActionsSource,
  kubernetesServiceAccountSource,
  fileSource,
  envSource,
  commandSource,
  urlSource,
  type SubjectTokenSource,
  type SubjectTokenSourceConfig,
  type SubjectReadContext,
} from './adapters/subject-token/index.js';

// The HTTP adapter behind TokenEngineOptions.http: hosts give it their own fetch (a proxy agent, mTLS, a tap).
export { createTokenEndpointAdapter } from './adapters/http/index.js';

// Stores.
export { createFileStore, createMemoryStore, storeKey, type TokenStore, type FileStoreOptions, type MemoryStoreOptions } from './adapters/storage/index.js';

// Config, for hosts that parse it themselves.
export { parseOpenCodeConfig, type ProviderConfig, type EngineProviderConfig, type ConfigIssue } from './config/index.js';

// Secret-free observability: a redacting logger and the redacting inspector.
export { createRedactingLogger, createStderrJsonLogger, withRedaction } from './adapters/consoleLogger.js';
export { silentLogger, type Logger, type LogLevel } from './adapters/logger.js';
export { createRedactingInspector, redactInspectionEvent, type RedactingInspector, type InspectorAdapter } from './plugin/inspector.js';
