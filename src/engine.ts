/**
 * The public engine API for agents other than OpenCode: machines and adapters wired together.
 *
 *   const engine = createTokenEngine({ servers: [{ id, issuer, clientId, scopes, authFlow, ... }] });
 *   const res = await engine.fetch('corp')('https://gateway/v1/models');
 */
export * from './machines/index.js';
export * from './errors.js';
export * from './runtime/index.js';
export * from './flows/index.js';
export * from './adapters/storage/index.js';
export * from './adapters/http/index.js';
export * from './adapters/subject-token/index.js';
export { startLoopbackServer, type LoopbackServer, type LoopbackOptions } from './adapters/loopback/index.js';
export { openBrowser, type OpenBrowserOptions } from './adapters/browser/index.js';
export { createPkceMaterial } from './adapters/pkce.js';
export { redactFields, scrubSecrets, redactUrl, tokenFingerprint } from './adapters/redact.js';
export { createRedactingLogger, createStderrJsonLogger, withRedaction } from './adapters/consoleLogger.js';
export { silentLogger, type Logger, type LogLevel } from './adapters/logger.js';
export { parseOpenCodeConfig, type ProviderConfig, type RuntimeConfig, type ConfigIssue } from './config/index.js';
export { fetchModels, discoverModels, displayName, mergeModels, modelsUrl, type DiscoveredModel } from './adapters/models/index.js';
