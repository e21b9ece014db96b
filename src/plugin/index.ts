/** The OpenCode shell, for tests and embedders (the OpenCode entry is src/index.ts, which exports only plugin functions). */
export { createOAuthMachinesPlugin, LOGIN_LABELS, LOGIN_SLOTS, type OAuthMachinesPlugins, type PluginDeps } from './plugin.js';
export { PLACEHOLDER_API_KEY, registerProvider, SecretStash, providerPackage } from './providerEntry.js';
export { createPluginLogger, LOG_PREFIX, SERVICE, type PluginLogger } from './pluginLogger.js';
export { createUserSurface, detectSurface, mayStartInteractiveLogin, requestedModel, INTERACTIVE_ENV, type Surface, type UserSurface } from './userSurface.js';
export { findProtectedAccess, protectedPaths, type ProtectedPath } from './toolGuard.js';
export { createModelCache, modelCacheDir, type ModelCache } from './modelCache.js';
export {
  createRedactingInspector,
  createWebSocketAdapter,
  inspectorFromEnv,
  redactInspectionEvent,
  INSPECT_ENV,
  type InspectorAdapter,
  type RedactingInspector,
  type StatelyEvent,
} from './inspector.js';
export type * from './opencodeTypes.js';
