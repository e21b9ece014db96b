// @ts-check
/**
 * The lab: real servers on 127.0.0.1 for tests, benchmarks and `npm run demo`. See lab/README.md.
 * @module
 */
export { startIdp, basicAuth } from './idp.mjs';
export { startCiIssuer } from './ci-issuer.mjs';
export { startGateway } from './gateway.mjs';
export { FAULT_KINDS, GRANT_TYPE, normalizeGrantType } from './faults.mjs';
export { CookieJar, followAuthorization, approveDeviceAt, isDeviceVerificationUrl, parseForms } from './browser-walk.mjs';

/** Absolute path of the BROWSER shim: use `BROWSER="node ${BROWSER_SCRIPT}"`. */
export const BROWSER_SCRIPT = new URL('./browser.mjs', import.meta.url).pathname;

/** @typedef {import('./idp.mjs').Idp} Idp */
/** @typedef {import('./idp.mjs').IdpOptions} IdpOptions */
/** @typedef {import('./idp.mjs').IdpCounters} IdpCounters */
/** @typedef {import('./idp.mjs').LabClients} LabClients */
/** @typedef {import('./ci-issuer.mjs').CiIssuer} CiIssuer */
/** @typedef {import('./ci-issuer.mjs').CiIssuerOptions} CiIssuerOptions */
/** @typedef {import('./ci-issuer.mjs').MintOptions} MintOptions */
/** @typedef {import('./ci-issuer.mjs').ProjectedTokenOptions} ProjectedTokenOptions */
/** @typedef {import('./gateway.mjs').Gateway} Gateway */
/** @typedef {import('./gateway.mjs').GatewayOptions} GatewayOptions */
/** @typedef {import('./gateway.mjs').GatewayRequest} GatewayRequest */
/** @typedef {import('./faults.mjs').FaultSpec} FaultSpec */
/** @typedef {import('./faults.mjs').FaultKind} FaultKind */
/** @typedef {import('./faults.mjs').GrantCounter} GrantCounter */
