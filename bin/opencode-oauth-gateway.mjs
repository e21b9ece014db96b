#!/usr/bin/env node
// The gateway's Node host; see docs/gateway.md. Needs the optional peers hono and @hono/node-server (and ioredis with REDIS_URL).
import('../dist/gateway-cli.mjs')
  .then((cli) => cli.main(process.argv.slice(2), process.env))
  .catch((error) => {
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec(String(error?.message))?.[1];
    console.error(missing
      ? `opencode-oauth-gateway: missing dependency ${missing}; install it next to opencode-oauth-machines: npm i hono@4 @hono/node-server@2 ioredis@6`
      : `opencode-oauth-gateway: ${error?.message ?? error}`);
    process.exit(1);
  });
