// @ts-check
/**
 * The lab for an end-to-end run: CI issuer, IdP and gateway on 127.0.0.1, with a secret collector following
 * them from the first token on.
 * @module
 */
import { startCiIssuer, startGateway, startIdp } from '../../lab/index.mjs';
import { SecretCollector } from './secrets.mjs';

/**
 * @typedef {object} E2eLab
 * @property {import('../../lab/index.mjs').CiIssuer} ci
 * @property {import('../../lab/index.mjs').Idp} idp
 * @property {import('../../lab/index.mjs').Gateway} gateway
 * @property {SecretCollector} secrets
 * @property {() => Promise<void>} stop stops every server (idempotent)
 */

/**
 * @param {{ idp?: import('../../lab/index.mjs').IdpOptions, models?: string[] }} [options]
 * @returns {Promise<E2eLab>}
 */
export async function startLab(options = {}) {
  const ci = await startCiIssuer();
  /** @type {import('../../lab/index.mjs').Idp | undefined} */
  let idp;
  /** @type {import('../../lab/index.mjs').Gateway | undefined} */
  let gateway;
  const secrets = new SecretCollector();
  try {
    idp = await startIdp({ ciIssuer: ci, ...options.idp });
    secrets.watchIdp(idp);
    secrets.watchCiIssuer(ci);
    gateway = await startGateway({ idp, models: options.models ?? ['lab-model'] });
  } catch (error) {
    await Promise.allSettled([idp?.stop(), ci.stop()]);
    throw error;
  }
  /** @type {Promise<void> | undefined} */
  let stopping;
  const servers = { ci, idp, gateway };
  return {
    ...servers,
    secrets,
    stop() {
      stopping ??= (async () => {
        secrets.dispose();
        await Promise.allSettled([servers.gateway.stop(), servers.idp.stop(), servers.ci.stop()]);
      })();
      return stopping;
    },
  };
}
