#!/usr/bin/env node
// @ts-check
/**
 * A headless browser for the BROWSER env var: `BROWSER="node /abs/lab/browser.mjs" <program>`.
 * Given an authorization URL it logs in at the lab IdP (auto-approved) and delivers the redirect to the
 * client's loopback callback; given a device `verification_uri_complete` it approves the device.
 * Env: LAB_BROWSER_LOG (append one JSON line per URL: path only, never the query),
 *      LAB_LOGIN_HINT (the account), LAB_BROWSER_DENY=1 (refuse instead of approve).
 * Exits 0 when the flow completed, 1 otherwise (the reason on stderr, without secrets).
 * @module
 */
import { appendFile } from 'node:fs/promises';
import { approveDeviceAt, followAuthorization, isDeviceVerificationUrl } from './browser-walk.mjs';

/**
 * @param {string[]} argv
 * @returns {string | undefined}
 */
function urlArgument(argv) {
  return [...argv].reverse().find((arg) => /^https?:\/\//.test(arg));
}

/** @param {Record<string, unknown>} line */
async function log(line) {
  const file = process.env.LAB_BROWSER_LOG;
  if (file) await appendFile(file, `${JSON.stringify({ t: Date.now(), ...line })}\n`);
}

async function main() {
  const url = urlArgument(process.argv.slice(2));
  if (!url) {
    process.stderr.write('lab browser: no http(s) URL argument\n');
    return 2;
  }
  const { pathname } = new URL(url);
  const options = {
    ...(process.env.LAB_LOGIN_HINT ? { loginHint: process.env.LAB_LOGIN_HINT } : {}),
    deny: process.env.LAB_BROWSER_DENY === '1',
    signal: AbortSignal.timeout(Number(process.env.LAB_BROWSER_TIMEOUT_MS ?? 15000)),
  };
  try {
    if (isDeviceVerificationUrl(url)) {
      const result = await approveDeviceAt(url, options);
      await log({ kind: 'device', path: pathname, approved: result.approved, status: result.status });
    } else {
      const result = await followAuthorization(url, options);
      await log({ kind: 'authorize', path: pathname, callbackPath: new URL(result.callbackUrl).pathname, status: result.status });
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await log({ kind: 'error', path: pathname, message });
    process.stderr.write(`${message}\n`);
    return 1;
  }
}

process.exitCode = await main();
