// @ts-check
/**
 * A headless "user with a browser" for the lab IdP: a cookie jar plus manual redirects.
 * Node's fetch keeps no cookies across redirects, so every hop is made by hand (redirect: 'manual')
 * and Set-Cookie is replayed. Used by `idp.browserLogin`, `idp.approveDevice` and the BROWSER shim.
 * @module
 */

/** Cookie names the lab IdP's auto-approve middleware reads (they are not oidc-provider's). */
export const LAB_COOKIE = Object.freeze({ loginHint: 'lab_login_hint', deny: 'lab_deny' });

/** Text the lab IdP puts on its device-flow pages so a walker can tell the outcome. */
export const DEVICE_MARKER = Object.freeze({
  approved: 'lab-device-approved',
  aborted: 'lab-device-aborted',
  failed: 'lab-device-failed',
});

const MAX_HOPS = 25;

/**
 * @typedef {{ name: string, value: string, path: string, expiresAt: number | undefined }} StoredCookie
 */

/** A per-origin, path-aware cookie jar: enough for oidc-provider's `_interaction`, `_session` cookies. */
export class CookieJar {
  /** @type {Map<string, Map<string, StoredCookie>>} origin → "name;path" → cookie */
  #byOrigin = new Map();

  /**
   * Set a cookie by hand (the lab's hint cookies).
   * @param {string} origin
   * @param {string} name
   * @param {string} value
   */
  set(origin, name, value) {
    this.#cookiesOf(origin).set(`${name};/`, { name, value, path: '/', expiresAt: undefined });
  }

  /**
   * Remember every Set-Cookie of a response; a cookie expired in the past (1970) deletes it.
   * @param {string | URL} url
   * @param {Response} res
   */
  store(url, res) {
    const { origin } = new URL(url);
    const jar = this.#cookiesOf(origin);
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      /** @type {number | undefined} */
      let expiresAt;
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const attributeValue = rest.join('=').trim();
        const lower = key.trim().toLowerCase();
        if (lower === 'path' && attributeValue) path = attributeValue;
        if (lower === 'expires') expiresAt = Date.parse(attributeValue);
        if (lower === 'max-age') expiresAt = Date.now() + Number(attributeValue) * 1000;
      }
      const key = `${name};${path}`;
      if (expiresAt !== undefined && expiresAt <= Date.now()) jar.delete(key);
      else jar.set(key, { name, value, path, expiresAt });
    }
  }

  /**
   * The Cookie header for a request, or undefined.
   * @param {string | URL} url
   * @returns {string | undefined}
   */
  header(url) {
    const { origin, pathname } = new URL(url);
    const jar = this.#byOrigin.get(origin);
    if (!jar) return undefined;
    const now = Date.now();
    const pairs = [...jar.values()]
      .filter((c) => (c.expiresAt === undefined || c.expiresAt > now) && pathMatches(pathname, c.path))
      // RFC 6265 §5.4: longer paths first
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`);
    return pairs.length ? pairs.join('; ') : undefined;
  }

  /** @param {string} origin */
  #cookiesOf(origin) {
    let jar = this.#byOrigin.get(origin);
    if (!jar) {
      jar = new Map();
      this.#byOrigin.set(origin, jar);
    }
    return jar;
  }
}

/**
 * @param {string} requestPath
 * @param {string} cookiePath
 */
function pathMatches(requestPath, cookiePath) {
  if (cookiePath === '/' || requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath.endsWith('/') ? cookiePath : `${cookiePath}/`);
}

/** @param {string} text */
function decodeHtml(text) {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * @param {string} attributes
 * @param {string} name
 */
function attributeOf(attributes, name) {
  const match = new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`, 'i').exec(attributes);
  return match?.[1] === undefined ? undefined : decodeHtml(match[1]);
}

/**
 * @typedef {{ id: string | undefined, action: string | undefined, method: string, fields: Array<[string, string]> }} HtmlForm
 */

/**
 * The forms of a page and their named inputs (hidden or not).
 * @param {string} html
 * @returns {HtmlForm[]}
 */
export function parseForms(html) {
  /** @type {HtmlForm[]} */
  const forms = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attributes = match[1] ?? '';
    /** @type {Array<[string, string]>} */
    const fields = [];
    for (const input of (match[2] ?? '').matchAll(/<input\b([^>]*?)\/?>/gi)) {
      const name = attributeOf(input[1] ?? '', 'name');
      if (name) fields.push([name, attributeOf(input[1] ?? '', 'value') ?? '']);
    }
    forms.push({
      id: attributeOf(attributes, 'id'),
      action: attributeOf(attributes, 'action'),
      method: (attributeOf(attributes, 'method') ?? 'get').toLowerCase(),
      fields,
    });
  }
  return forms;
}

/**
 * @typedef {object} WalkOptions
 * @property {CookieJar} [jar] reuse a jar (a logged-in session); a fresh one otherwise
 * @property {string} [loginHint] the account the IdP logs in (sets the lab hint cookie)
 * @property {boolean} [deny] refuse: the IdP answers access_denied (auth code) or the device is aborted
 * @property {AbortSignal} [signal]
 */

/**
 * @typedef {object} WalkResult
 * @property {'callback' | 'page'} kind 'callback' when the walk left the IdP for the client's redirect URI
 * @property {number} status HTTP status of the last response (the client's callback server when kind='callback')
 * @property {string} url the last URL requested (the full callback URL when kind='callback')
 * @property {string} [page] body of the last IdP page when kind='page'
 * @property {number} hops
 */

/**
 * Walk from a URL on the IdP until the flow leaves the IdP (a redirect or form post to another origin,
 * which is delivered like a browser would: that request is made, without the IdP's cookies)
 * or stops on a page with nothing left to submit.
 * @param {string} startUrl
 * @param {WalkOptions} [options]
 * @returns {Promise<WalkResult>}
 */
export async function walkIdpPages(startUrl, options = {}) {
  const jar = options.jar ?? new CookieJar();
  const idpOrigin = new URL(startUrl).origin;
  if (options.loginHint) jar.set(idpOrigin, LAB_COOKIE.loginHint, encodeURIComponent(options.loginHint));
  if (options.deny) jar.set(idpOrigin, LAB_COOKIE.deny, '1');

  /** @type {{ url: URL, method: string, body?: URLSearchParams }} */
  let next = { url: new URL(startUrl), method: 'GET' };
  for (let hops = 1; hops <= MAX_HOPS; hops += 1) {
    if (next.url.origin !== idpOrigin) {
      // The client's loopback redirect URI: deliver it once, never follow what it answers.
      const res = await fetch(next.url, {
        method: next.method,
        redirect: 'manual',
        ...(next.body ? { body: next.body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      await res.arrayBuffer();
      return { kind: 'callback', status: res.status, url: next.url.href, hops };
    }
    /** @type {Record<string, string>} */
    const headers = { accept: 'text/html' };
    const cookie = jar.header(next.url);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(next.url, {
      method: next.method,
      redirect: 'manual',
      headers,
      ...(next.body ? { body: next.body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    jar.store(next.url, res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      next = { url: new URL(location, next.url), method: 'GET' };
      continue;
    }
    const page = await res.text();
    const form = submittableForm(page);
    if (!form) return { kind: 'page', status: res.status, url: next.url.href, page, hops };
    const body = new URLSearchParams(form.fields);
    if (form.id === 'op.deviceConfirmForm' && options.deny) {
      body.delete('confirm');
      body.set('abort', 'yes');
    }
    next = { url: new URL(form.action ?? next.url.href, next.url), method: 'POST', body };
  }
  throw new Error(`lab browser: gave up after ${MAX_HOPS} hops`);
}

/**
 * The form a user would submit next: the auto-submitting form_post page or the device confirmation;
 * never the device code input page (shown again after an abort or an error).
 * @param {string} page
 * @returns {HtmlForm | undefined}
 */
function submittableForm(page) {
  return parseForms(page).find((form) => form.method === 'post' && form.id !== 'op.deviceInputForm');
}

/**
 * Log in (auto-approved by the lab IdP) from an authorization URL, then request the redirect URI with
 * code, state and iss, as a browser would.
 * @param {string} authorizeUrl
 * @param {WalkOptions} [options]
 * @returns {Promise<{ callbackUrl: string, status: number }>}
 */
export async function followAuthorization(authorizeUrl, options = {}) {
  const result = await walkIdpPages(authorizeUrl, options);
  if (result.kind !== 'callback') {
    throw new Error(
      `lab browser: the IdP did not redirect back (stopped at ${new URL(result.url).pathname}, HTTP ${result.status})`,
    );
  }
  return { callbackUrl: result.url, status: result.status };
}

/**
 * Approve (or abort) a device authorization through the IdP's own verification pages.
 * @param {string} verificationUriComplete `…/device?user_code=XXXX-XXXX`
 * @param {WalkOptions} [options]
 * @returns {Promise<{ approved: boolean, aborted: boolean, status: number }>}
 */
export async function approveDeviceAt(verificationUriComplete, options = {}) {
  const result = await walkIdpPages(verificationUriComplete, options);
  const page = result.page ?? '';
  const approved = page.includes(DEVICE_MARKER.approved);
  const aborted = page.includes(DEVICE_MARKER.aborted);
  if (!approved && !aborted) {
    throw new Error(`lab browser: device verification did not complete (HTTP ${result.status})`);
  }
  return { approved, aborted, status: result.status };
}

/**
 * Whether a URL is a device verification URL carrying a user code (RFC 8628 §3.3.1).
 * @param {string} url
 */
export function isDeviceVerificationUrl(url) {
  const parsed = new URL(url);
  return /\/device\/?$/.test(parsed.pathname) && parsed.searchParams.has('user_code');
}
