// @ts-check
/**
 * The leak sweep: collect every secret the lab hands out or receives (tokens, refresh tokens, authorization and
 * device codes, PKCE verifiers, CI assertions, client secrets) and look for them where OpenCode and the plugin
 * write (logs, stdout/stderr, the project dir, auth.json, its database). Findings name the secret's kind and the
 * place, never the value.
 * @module
 */
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import path from 'node:path';

/** A compact JWT (header.payload.signature) anywhere in a text. */
const JWT_SHAPE = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/g;

/**
 * @typedef {object} Finding
 * @property {string} kind e.g. 'access_token', 'client_secret', 'ci_jwt'
 * @property {string} where a file path or a label such as 'stderr'
 */

export class SecretCollector {
  /** @type {Map<string, string>} value → kind */
  values = new Map();

  /** @type {Array<() => void>} */
  #unsubscribe = [];

  /** @type {Set<string>} issuers whose JWTs count as secrets wherever they appear */
  jwtIssuers = new Set();

  /**
   * @param {string} kind
   * @param {unknown} value ignored unless a string of 8+ characters (short values would match by chance)
   */
  add(kind, value) {
    if (typeof value === 'string' && value.length >= 8 && !this.values.has(value)) this.values.set(value, kind);
  }

  /**
   * Follow a lab IdP: every token, refresh token, authorization code and device code it saves, and the secret
   * parameters of every token request (assertion, subject/actor token, code_verifier, refresh_token), plus the
   * client secrets of its built-in clients.
   * @param {import('../../lab/index.mjs').Idp} idp
   */
  watchIdp(idp) {
    for (const [name, client] of Object.entries(idp.clients)) this.add(`client_secret:${name}`, client.client_secret);
    const provider = idp.provider;
    /** @param {string} event @param {(...args: any[]) => void} listener */
    const on = (event, listener) => {
      provider.on(event, listener);
      this.#unsubscribe.push(() => provider.off(event, listener));
    };
    for (const kind of ['access_token', 'client_credentials', 'refresh_token', 'authorization_code', 'device_code']) {
      on(`${kind}.saved`, (/** @type {any} */ token) => this.add(kind, token?.jti));
    }
    /** @param {any} ctx */
    const fromParams = (ctx) => {
      const params = ctx?.oidc?.params ?? {};
      for (const name of ['assertion', 'subject_token', 'actor_token', 'code_verifier', 'refresh_token', 'code', 'device_code', 'client_assertion']) {
        this.add(name, params[name]);
      }
    };
    on('grant.success', fromParams);
    on('grant.error', fromParams);
  }

  /**
   * JWTs signed by this issuer are secrets wherever they appear (CI ID tokens minted inside the lab's
   * Actions endpoint are never handed to the test). The Actions request token is a secret too.
   * @param {import('../../lab/index.mjs').CiIssuer} ci
   */
  watchCiIssuer(ci) {
    this.jwtIssuers.add(ci.issuer);
    this.add('actions_request_token', ci.actionsEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
  }

  /** Stop following the IdPs. */
  dispose() {
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  /** How many secrets are known (a sweep over zero secrets proves nothing). */
  get size() {
    return this.values.size;
  }

  /**
   * The kinds of secret known, with how many of each (e.g. `{ refresh_token: 3, code_verifier: 1 }`): lets a
   * test show that its sweep looked for every kind the scenario produced.
   * @returns {Record<string, number>}
   */
  kinds() {
    /** @type {Record<string, number>} */
    const counts = {};
    for (const kind of this.values.values()) counts[kind] = (counts[kind] ?? 0) + 1;
    return counts;
  }

  /**
   * Kinds of secrets found in a text.
   * @param {string} text
   * @returns {string[]}
   */
  kindsIn(text) {
    const kinds = new Set();
    for (const [value, kind] of this.values) if (text.includes(value)) kinds.add(kind);
    for (const jwt of text.match(JWT_SHAPE) ?? []) {
      const issuer = jwtIssuer(jwt);
      if (issuer && (this.jwtIssuers.has(issuer) || this.values.has(jwt))) kinds.add('ci_jwt');
    }
    return [...kinds];
  }

  /**
   * Search texts and files (dirs recursively) for every known secret.
   * @param {{ texts?: Record<string, string>, paths?: string[], exclude?: string[] }} where
   *   `exclude`: paths not searched (the plugin's own token store, which is where tokens belong)
   * @returns {Finding[]}
   */
  sweep(where) {
    /** @type {Finding[]} */
    const findings = [];
    for (const [label, text] of Object.entries(where.texts ?? {})) {
      for (const kind of this.kindsIn(text)) findings.push({ kind, where: label });
    }
    const excluded = (where.exclude ?? []).map((p) => path.resolve(p));
    for (const file of (where.paths ?? []).flatMap((p) => listFiles(path.resolve(p), excluded))) {
      let text;
      try {
        text = readFileSync(file).toString('latin1');
      } catch {
        continue;
      }
      for (const kind of this.kindsIn(text)) findings.push({ kind, where: file });
    }
    return findings;
  }
}

/**
 * @param {string} jwt
 * @returns {string | undefined}
 */
function jwtIssuer(jwt) {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload?.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Regular files under a path (no symlinks followed), skipping excluded subtrees.
 * @param {string} root
 * @param {string[]} excluded
 * @returns {string[]}
 */
function listFiles(root, excluded) {
  if (excluded.some((ex) => root === ex || root.startsWith(ex + path.sep))) return [];
  let stat;
  try {
    stat = lstatSync(root);
  } catch {
    return [];
  }
  if (stat.isFile()) return [root];
  if (!stat.isDirectory()) return [];
  return readdirSync(root).flatMap((name) => listFiles(path.join(root, name), excluded));
}
