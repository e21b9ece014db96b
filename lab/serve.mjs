#!/usr/bin/env node
// @ts-check
/**
 * Run the whole lab (CI issuer, IdP, gateway) as one process for manual play, benchmarks or other
 * processes: `node lab/serve.mjs --state /tmp/lab.json [--models a,b] [--access-token-ttl 60]`.
 * Endpoints and the built-in clients (with their secrets) go to the --state file (mode 0600), never to stdout;
 * stdout gets one line, `lab ready <state file>`. SIGINT/SIGTERM stop every server.
 * @module
 */
import { writeFile, rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startCiIssuer, startGateway, startIdp } from './index.mjs';

const { values } = parseArgs({
  options: {
    state: { type: 'string' },
    models: { type: 'string', default: 'lab-model' },
    'access-token-ttl': { type: 'string', default: '300' },
    'device-interval': { type: 'string' },
  },
});
if (!values.state) {
  process.stderr.write('usage: node lab/serve.mjs --state <file> [--models a,b] [--access-token-ttl s] [--device-interval s]\n');
  process.exit(2);
}
const stateFile = values.state;

const ci = await startCiIssuer();
const idp = await startIdp({
  ciIssuer: ci,
  accessTokenTtl: Number(values['access-token-ttl']),
  ...(values['device-interval'] ? { deviceInterval: Number(values['device-interval']) } : {}),
});
const gateway = await startGateway({ idp, models: (values.models ?? 'lab-model').split(',') });

await writeFile(stateFile, `${JSON.stringify({
  pid: process.pid,
  idp: {
    issuer: idp.issuer,
    tokenEndpoint: idp.tokenEndpoint,
    deviceAuthorizationEndpoint: idp.deviceAuthorizationEndpoint,
    faults: `${idp.issuer}/__faults`,
    counters: `${idp.issuer}/__counters`,
    clients: idp.clients,
  },
  ci: { issuer: ci.issuer, jwksUri: ci.jwksUri, actionsEnv: ci.actionsEnv },
  gateway: { baseURL: gateway.baseURL, models: gateway.models },
}, null, 2)}\n`, { mode: 0o600 });
process.stdout.write(`lab ready ${stateFile}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled([gateway.stop(), idp.stop(), ci.stop()]);
  await rm(stateFile, { force: true });
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
