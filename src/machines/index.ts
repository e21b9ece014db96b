/** The machines, pure: effects are named actors, delays and actions provided from outside. */
export * from './token.js';
export * from './refreshWindow.js';
export * from './tokenLifecycle.js';
export * from './providerRegistry.js';
export * from './authorizationCode.js';
export * from './deviceCode.js';
export * from './assertionGrant.js';
export * from './subjectTokenPassthrough.js';
export * from './flowCallback.js';
export * from './flowResult.js';
export * from './flowSubject.js';
export * from './flowTypes.js';
export * from './modelSync.js';
/** Types the flow machines' contexts and actor outputs carry. */
export type { DeviceAuthorization, ServerMetadata } from '../adapters/http/types.js';
