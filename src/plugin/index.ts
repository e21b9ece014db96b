/** The OpenCode shell, for tests and embedders (the OpenCode entry is src/index.ts, which exports only plugin functions). */
export { createOAuthMachinesPlugin, LOGIN_LABELS, LOGIN_SLOTS, type OAuthMachinesPlugins, type PluginDeps } from './plugin.js';
export { PLACEHOLDER_API_KEY, registerProvider, SecretStash, providerPackage } from './providerEntry.js';
export { createPluginLogger, LOG_PREFIX, SERVICE, type PluginLogger } from './pluginLogger.js';
export { createUserSurface, detectSurface, requestedModel, type Surface, type UserSurface } from './userSurface.js';
export { CI_VARIABLES, INTERACTIVE_ENV, ciVariable, loginDecision, refusalMessage, type LoginDecision } from './loginPolicy.js';
export { createLoginNotices, type LoginNotices } from './loginNotices.js';
export { LOGIN_STAND_IN, loginStandInName, standInModels, withoutStandIns } from './standInModels.js';
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
