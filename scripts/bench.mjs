// npm run bench — speed and memory of the engine, each as a ratio against a baseline run in this same process.
// Numbers are for reading, not asserting: tests never time anything.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createFileStore, createMemoryStore, createTokenEngine, storeKey } from '../dist/engine.mjs';
import { startIdp } from '../lab/index.mjs';
import { createActor, createMachine } from 'xstate';

const rounds = Number(process.env.BENCH_ROUNDS ?? 20_000);

async function time(fn, n) {
  for (let i = 0; i < Math.min(1000, n); i++) await fn(i); // warm up
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return (performance.now() - start) / n;
}

const fmt = (ms) => (ms < 0.01 ? `${(ms * 1000).toFixed(2)} µs` : `${ms.toFixed(3)} ms`);
const rows = [];
const row = (what, measured, baseline, baselineName) =>
  rows.push({ what, measured: fmt(measured), baseline: `${fmt(baseline)} (${baselineName})`, ratio: (measured / baseline).toFixed(2) });

const idp = await startIdp({ accessTokenTtl: 300 });
const dir = await mkdtemp(join(tmpdir(), 'oauth-bench-'));
try {
  const server = {
    id: 'svc',
    issuer: idp.issuer,
    baseURL: 'http://127.0.0.1:9/v1',
    clientId: idp.clients.basic.client_id,
    clientSecret: idp.clients.basic.client_secret,
    clientAuthMethod: 'client_secret_basic',
    scopes: ['api:read'],
    authFlow: 'client_credentials',
  };

  // 1. The hot path: a valid token handed to a request.
  const engine = createTokenEngine({ servers: [server], store: createFileStore({ dir }), notify: () => {} });
  await engine.getToken('svc');
  const cached = new Map([['svc', { accessToken: 'x' }]]);
  const baseline = await time(() => Promise.resolve(cached.get('svc')), rounds);
  const hot = await time(() => engine.getToken('svc'), rounds);
  row('getToken, valid token (per call)', hot, baseline, 'Map lookup + resolved promise');
  const headers = await time(() => engine.headers('svc'), rounds);
  row('headers(), valid token (per call)', headers, baseline, 'Map lookup + resolved promise');

  // 2. A burst on an empty store: N callers, one token request, against one direct request.
  const direct = await time(async () => {
    const response = await fetch(idp.tokenEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${server.clientId}:${server.clientSecret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=api%3Aread',
    });
    await response.json();
  }, 50);
  for (const burst of [1, 100, 1000]) {
    const fresh = createTokenEngine({ servers: [server], store: createMemoryStore(), notify: () => {} });
    idp.resetCounters();
    const start = performance.now();
    await Promise.all(Array.from({ length: burst }, () => fresh.getToken('svc')));
    const elapsed = performance.now() - start;
    row(`burst of ${burst} getToken, empty store (whole burst; IdP requests: ${idp.grantCount('client_credentials').requests})`, elapsed, direct, 'one direct token request');
    fresh.stop();
  }

  // 3. Reading the store: a record read through the engine's store vs a plain read of the same file.
  const store = createFileStore({ dir });
  const key = storeKey({ providerId: 'svc', issuer: idp.issuer, clientId: server.clientId, flow: 'client_credentials', scopes: ['api:read'] });
  const { readFile } = await import('node:fs/promises');
  const plain = await time(() => readFile(join(dir, `${key.id}.json`), 'utf8').then(JSON.parse), 2000);
  const viaStore = await time(() => store.read(key), 2000);
  row('store.read (validated record)', viaStore, plain, 'readFile + JSON.parse');
  const lock = await time(async () => (await store.lock(key)).release(), 500);
  row('lock + release (cross-process lock file)', lock, plain, 'readFile + JSON.parse');
  engine.stop();

  // 4. Memory: one provider's lifecycle actor, against a minimal XState actor per provider.
  const providers = 300;
  const heap = () => {
    globalThis.gc?.();
    return process.memoryUsage().heapUsed;
  };
  const minimal = createMachine({ initial: 'idle', states: { idle: { on: { GO: 'idle' } } } });
  const before = heap();
  const keep = Array.from({ length: providers }, () => createActor(minimal).start());
  const afterMinimal = heap();
  const many = createTokenEngine({
    servers: Array.from({ length: providers }, (_, i) => ({ ...server, id: `svc${i}` })),
    store: createMemoryStore(),
    notify: () => {},
  });
  await new Promise((r) => setTimeout(r, 50));
  const afterEngine = heap();
  const perProvider = (afterEngine - afterMinimal) / providers;
  const perMinimal = (afterMinimal - before) / providers;
  rows.push({
    what: `memory per provider (${providers} providers${globalThis.gc ? '' : ', run with --expose-gc for steadier numbers'})`,
    measured: `${(perProvider / 1024).toFixed(1)} KiB`,
    baseline: `${(perMinimal / 1024).toFixed(1)} KiB (a minimal XState actor)`,
    ratio: (perProvider / perMinimal).toFixed(2),
  });
  many.stop();
  keep.forEach((a) => a.stop());

} finally {
  await idp.stop();
  await rm(dir, { recursive: true, force: true });
}

console.log(`opencode-oauth-machines bench — Node ${process.version}, ${rounds} rounds for per-call rows`);
console.table(rows);
