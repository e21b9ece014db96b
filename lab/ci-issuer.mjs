// @ts-check
/**
 * A fake CI identity issuer on 127.0.0.1: GitHub Actions' OIDC issuer (discovery, JWKS, the ID-token endpoint
 * behind ACTIONS_ID_TOKEN_REQUEST_URL) and Kubernetes projected service-account tokens.
 * @module
 */
import { randomUUID, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, symlink, writeFile, readdir, lstat, readlink } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import * as jose from 'jose';
import { closeServer, listenOnLoopback, sendJson, bearerFrom } from './http.mjs';

/**
 * @typedef {object} CiIssuerOptions
 * @property {'ES256' | 'RS256'} [alg] signing algorithm (default ES256: a key in 2 ms; RS256 like GitHub costs ~150 ms)
 * @property {string} [requestToken] the ACTIONS_ID_TOKEN_REQUEST_TOKEN the token endpoint expects (random by default)
 * @property {boolean} [idTokenPermission] false: the endpoint answers 403 as if the workflow lacks `id-token: write`
 * @property {number} [defaultTtlSec] lifetime of minted tokens (default 300, like GitHub's ~5 min)
 * @property {Record<string, unknown>} [claims] extra claims on every GitHub-like token
 */

/**
 * @typedef {object} MintOptions
 * @property {string} [sub] default `repo:octo-org/octo-repo:ref:refs/heads/main`
 * @property {string | string[]} [aud] default the repository owner URL, like GitHub without `audience`
 * @property {number} [ttlSec] lifetime (default `defaultTtlSec`); negative makes an expired token
 * @property {number} [iat] issued-at (seconds), default now
 * @property {Record<string, unknown>} [claims] claims added or overriding the defaults
 */

/**
 * @typedef {object} ProjectedTokenOptions
 * @property {string | string[]} [aud]
 * @property {number} [ttlSec] default 3600, kubelet's usual expirationSeconds
 * @property {string} [namespace] default 'lab'
 * @property {string} [serviceAccount] default 'opencode'
 * @property {boolean} [atomic] write like kubelet: a timestamped dir, `..data` symlink swapped by rename,
 *   and `token` → `..data/token` (default false: a plain file replaced by rename)
 */

/**
 * @typedef {object} CiIssuerCounters
 * @property {number} discovery
 * @property {number} jwks
 * @property {number} minted
 * @property {{ ok: number, unauthorized: number, forbidden: number, badRequest: number }} actionsToken
 */

/**
 * @typedef {object} CiIssuer
 * @property {string} issuer `http://127.0.0.1:<port>`
 * @property {string} jwksUri
 * @property {jose.JWK} publicJwk
 * @property {{ ACTIONS_ID_TOKEN_REQUEST_URL: string, ACTIONS_ID_TOKEN_REQUEST_TOKEN: string }} actionsEnv
 * @property {(options?: MintOptions) => Promise<string>} mint a GitHub-Actions-like ID token
 * @property {(options?: ProjectedTokenOptions) => Promise<string>} mintKubernetes a projected SA token
 * @property {(file: string, options?: ProjectedTokenOptions) => Promise<{ token: string, path: string, exp: number }>} writeProjectedToken
 * @property {(allowed: boolean) => void} setIdTokenPermission toggle the 403 of a workflow without `id-token: write`
 * @property {CiIssuerCounters} counters
 * @property {() => void} resetCounters
 * @property {() => Promise<void>} stop
 */

const GITHUB_DEFAULTS = Object.freeze({
  repository: 'octo-org/octo-repo',
  repository_owner: 'octo-org',
  repository_id: '74',
  repository_owner_id: '65',
  repository_visibility: 'private',
  ref: 'refs/heads/main',
  ref_type: 'branch',
  sha: 'example0sha0000000000000000000000000000',
  workflow: 'ci',
  workflow_ref: 'octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main',
  job_workflow_ref: 'octo-org/octo-repo/.github/workflows/ci.yml@refs/heads/main',
  actor: 'octocat',
  actor_id: '1',
  event_name: 'push',
  run_id: '42',
  run_number: '7',
  run_attempt: '1',
  runner_environment: 'github-hosted',
});

/**
 * Start the fake CI issuer.
 * @param {CiIssuerOptions} [options]
 * @returns {Promise<CiIssuer>}
 */
export async function startCiIssuer(options = {}) {
  const alg = options.alg ?? 'ES256';
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
  const kid = `lab-ci-${randomBytes(4).toString('hex')}`;
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
  const requestToken = options.requestToken ?? randomBytes(24).toString('base64url');
  const defaultTtlSec = options.defaultTtlSec ?? 300;
  let idTokenPermission = options.idTokenPermission ?? true;
  /** @type {CiIssuerCounters} */
  const counters = freshCounters();

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { message: 'lab ci issuer error' });
      else res.destroy();
    });
  });
  const port = await listenOnLoopback(server);
  const issuer = `http://127.0.0.1:${port}`;
  const jwksUri = `${issuer}/.well-known/jwks`;

  /**
   * @param {Record<string, unknown>} claims
   * @param {string | string[]} aud
   * @param {string} sub
   * @param {number} ttlSec
   * @param {number} [iat]
   */
  async function sign(claims, aud, sub, ttlSec, iat) {
    const now = iat ?? Math.floor(Date.now() / 1000);
    counters.minted += 1;
    return new jose.SignJWT({ jti: randomUUID(), nbf: now, ...claims })
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setSubject(sub)
      .setAudience(aud)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSec)
      .sign(privateKey);
  }

  /** @param {MintOptions} [mintOptions] */
  async function mint(mintOptions = {}) {
    const claims = { ...GITHUB_DEFAULTS, ...options.claims, ...mintOptions.claims };
    const sub = mintOptions.sub ?? `repo:${String(claims.repository)}:ref:${String(claims.ref)}`;
    const aud = mintOptions.aud ?? `https://github.com/${String(claims.repository_owner)}`;
    return sign(claims, aud, sub, mintOptions.ttlSec ?? defaultTtlSec, mintOptions.iat);
  }

  /** @param {ProjectedTokenOptions} [k8s] */
  async function mintKubernetes(k8s = {}) {
    const namespace = k8s.namespace ?? 'lab';
    const serviceAccount = k8s.serviceAccount ?? 'opencode';
    const claims = {
      'kubernetes.io': {
        namespace,
        serviceaccount: { name: serviceAccount, uid: randomUUID() },
        pod: { name: `${serviceAccount}-0`, uid: randomUUID() },
      },
    };
    return sign(claims, k8s.aud ?? issuer, `system:serviceaccount:${namespace}:${serviceAccount}`, k8s.ttlSec ?? 3600);
  }

  /**
   * @param {string} file
   * @param {ProjectedTokenOptions} [k8s]
   */
  async function writeProjectedToken(file, k8s = {}) {
    const token = await mintKubernetes(k8s);
    const exp = /** @type {number} */ (jose.decodeJwt(token).exp);
    const dir = path.dirname(file);
    await mkdir(dir, { recursive: true });
    if (k8s.atomic) await swapKubeletStyle(dir, path.basename(file), token);
    else {
      const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}`);
      await writeFile(temp, token, { mode: 0o600 });
      await rename(temp, file);
    }
    return { token, path: file, exp };
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  async function handle(req, res) {
    const url = new URL(req.url ?? '/', issuer);
    if (req.method !== 'GET') return sendJson(res, 405, { message: 'method not allowed' });
    if (url.pathname === '/.well-known/openid-configuration') {
      counters.discovery += 1;
      return sendJson(res, 200, {
        issuer,
        jwks_uri: jwksUri,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', ...Object.keys(GITHUB_DEFAULTS)],
        id_token_signing_alg_values_supported: [alg],
        scopes_supported: ['openid'],
      });
    }
    if (url.pathname === '/.well-known/jwks') {
      counters.jwks += 1;
      return sendJson(res, 200, { keys: [publicJwk] });
    }
    if (url.pathname === '/_apis/token') return actionsIdToken(req, res, url);
    return sendJson(res, 404, { message: 'Not Found' });
  }

  /**
   * GitHub's ID-token endpoint: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<aud>` with the request token.
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {URL} url
   */
  async function actionsIdToken(req, res, url) {
    if (bearerFrom(req.headers.authorization) !== requestToken) {
      counters.actionsToken.unauthorized += 1;
      return sendJson(res, 401, { message: 'Bad credentials' });
    }
    if (!idTokenPermission) {
      counters.actionsToken.forbidden += 1;
      return sendJson(res, 403, {
        message: 'Resource not accessible by integration: the workflow lacks `permissions: id-token: write`',
      });
    }
    if (url.searchParams.get('api-version') !== '2.0') {
      counters.actionsToken.badRequest += 1;
      return sendJson(res, 400, { message: 'api-version 2.0 required' });
    }
    const audience = url.searchParams.get('audience');
    const value = await mint(audience ? { aud: audience } : {});
    counters.actionsToken.ok += 1;
    return sendJson(res, 200, { count: value.length, value });
  }

  return {
    issuer,
    jwksUri,
    publicJwk,
    actionsEnv: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${issuer}/_apis/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    },
    mint,
    mintKubernetes,
    writeProjectedToken,
    setIdTokenPermission(allowed) {
      idTokenPermission = allowed;
    },
    counters,
    resetCounters() {
      Object.assign(counters, freshCounters());
    },
    stop: () => closeServer(server),
  };
}

/** @returns {CiIssuerCounters} */
function freshCounters() {
  return { discovery: 0, jwks: 0, minted: 0, actionsToken: { ok: 0, unauthorized: 0, forbidden: 0, badRequest: 0 } };
}

/**
 * Kubelet's AtomicWriter: write into `..<timestamp>/`, point `..data_tmp` at it, rename it over `..data`
 * (an atomic swap), keep `<name>` → `..data/<name>`, then drop the previous timestamped dir.
 * @param {string} dir
 * @param {string} name
 * @param {string} token
 */
async function swapKubeletStyle(dir, name, token) {
  const stamp = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${randomBytes(3).toString('hex')}`;
  await mkdir(path.join(dir, stamp), { mode: 0o755 });
  await writeFile(path.join(dir, stamp, name), token, { mode: 0o644 });
  const dataLink = path.join(dir, '..data');
  const previous = await readlink(dataLink).catch(() => undefined);
  const tempLink = path.join(dir, '..data_tmp');
  await rm(tempLink, { force: true });
  await symlink(stamp, tempLink);
  await rename(tempLink, dataLink);
  const userLink = path.join(dir, name);
  const existing = await lstat(userLink).catch(() => undefined);
  if (existing && !existing.isSymbolicLink()) await rm(userLink, { force: true });
  if (!existing || !existing.isSymbolicLink()) await symlink(path.join('..data', name), userLink);
  if (previous && previous !== stamp) await rm(path.join(dir, previous), { recursive: true, force: true });
  // Stray timestamped dirs from an interrupted swap would pile up; kubelet removes them too.
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..') && entry !== '..data' && entry !== stamp && entry !== '..data_tmp') {
      await rm(path.join(dir, entry), { recursive: true, force: true });
    }
  }
}
