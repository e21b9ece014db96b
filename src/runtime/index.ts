export { createTokenEngine, type TokenEngine, type TokenEngineOptions } from './tokenEngine.js';
export { ProviderRuntime, type GetTokenOptions, type LoginOptions, type ProviderStatus } from './providerRuntime.js';
export type { EngineEvent, EngineEventType, EngineListener } from './engineEvents.js';
export { createAuthFetch, type AuthFetchOptions } from './authFetch.js';
export { providerSettings, type ProviderSettings } from './providerSettings.js';
export { stderrNotifier } from './notify.js';
export type { ModelSyncSettings } from './modelSyncActors.js';
