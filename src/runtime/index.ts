export { createTokenEngine, type TokenEngine, type TokenEngineOptions } from './tokenEngine.js';
export { ProviderRuntime, type GetTokenOptions, type ProviderStatus } from './providerRuntime.js';
export { createAuthFetch, type AuthFetchOptions } from './authFetch.js';
export { providerSettings, type ProviderSettings } from './providerSettings.js';
export { stderrNotifier } from './notify.js';
