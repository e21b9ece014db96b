// One quiet process for `npm run bench`: the lab runs in another process (lab/serve.mjs), so what is timed
// here is the plugin's own work. Imports the plugin entry, runs the first config hook with one
// client_credentials provider, then times chat.headers against a constant-header hook, interleaved.
// Prints one JSON line. Input: BENCH_HOOK_CONFIG = { state, cacheHome, rounds, perRound, floor? }.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const { state, cacheHome, rounds, perRound, floor } = JSON.parse(process.env.BENCH_HOOK_CONFIG);
// The entry builds its singleton at import: its store goes to this run's own scratch space.
process.env.XDG_CACHE_HOME = cacheHome;
process.env.CI = 'true';
const lab = JSON.parse(readFileSync(state, 'utf8'));

if (floor) {
  // The hook's unavoidable part, for a baseline: load ky (and with it the fetch stack), then the same three
  // requests (discovery, token, model list) with nothing around them: no config, no store, no machines.
  const start = performance.now();
  const { default: ky } = await import('ky');
  const metadata = await ky.get(`${lab.idp.issuer}/.well-known/openid-configuration`).json();
  const basic = Buffer.from(`${lab.idp.clients.basic.client_id}:${lab.idp.clients.basic.client_secret}`).toString('base64');
  const token = await ky
    .post(metadata.token_endpoint, { headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=api%3Aread' })
    .json();
  const list = await fetch(`${lab.gateway.baseURL}/models`, { headers: { authorization: `Bearer ${token.access_token}` } }).then((r) => r.json());
  process.stdout.write(`${JSON.stringify({ floorMs: performance.now() - start, models: list.data?.length ?? 0 })}\n`);
  process.exit(0);
}

const importStart = performance.now();
const { OAuthMachinesPlugin } = await import('../dist/index.mjs');
const pluginStart = performance.now();
const fakeClient = { app: { log: async () => ({ data: true }) }, tui: { showToast: async () => ({ data: true }) } };
const hooks = await OAuthMachinesPlugin({ client: fakeClient, directory: cacheHome, worktree: cacheHome }, undefined);
const hookStart = performance.now();
const config = {
  provider: {
    svc: {
      name: 'Bench svc',
      options: {
        baseURL: lab.gateway.baseURL,
        oauth2: {
          issuer: lab.idp.issuer,
          clientId: lab.idp.clients.basic.client_id,
          clientSecret: lab.idp.clients.basic.client_secret,
          clientAuthMethod: 'client_secret_basic',
          scopes: ['api:read'],
          authFlow: 'client_credentials',
        },
      },
    },
  },
};
await hooks.config(config);
const hookEnd = performance.now();
const models = Object.keys(config.provider.svc.models ?? {}).length;

// chat.headers beside a hook that sets one constant header: both async, both awaited, both warmed up the
// same way; measured in alternating blocks (order flipped every round) so drift and GC hit both alike.
const input = { model: { providerID: 'svc', id: 'lab-model' }, provider: { info: { id: 'svc' } } };
const constantHook = async (_input, output) => {
  output.headers.Authorization = 'Bearer constant';
};
// For reading the figure: the constant hook plus the one clock read the hard window needs per call.
const clockedHook = async (_input, output) => {
  if (Date.now() > 0) output.headers.Authorization = 'Bearer constant';
};
const subject = () => hooks['chat.headers'](input, { headers: {} });
const baseline = () => constantHook(input, { headers: {} });
const clocked = () => clockedHook(input, { headers: {} });
const probe = { headers: {} };
await hooks['chat.headers'](input, probe);
const served = typeof probe.headers.Authorization === 'string' && probe.headers.Authorization.startsWith('Bearer ');

async function block(fn, n, into) {
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    into.push(performance.now() - start);
  }
}
const base = [];
const hot = [];
const clock = [];
for (let i = 0; i < 5; i++) {
  await block(baseline, perRound, []);
  await block(subject, perRound, []);
  await block(clocked, perRound, []);
}
const roundRatios = [];
const sortNum = (values) => [...values].sort((a, b) => a - b);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
for (let r = 0; r < rounds; r++) {
  const b = [];
  const h = [];
  globalThis.gc?.();
  if (r % 2 === 0) {
    await block(baseline, perRound, b);
    await block(subject, perRound, h);
  } else {
    await block(subject, perRound, h);
    await block(baseline, perRound, b);
  }
  await block(clocked, perRound, clock);
  base.push(...b);
  hot.push(...h);
  roundRatios.push(pct(sortNum(h), 50) / pct(sortNum(b), 50));
}
const sb = sortNum(base);
const sh = sortNum(hot);
process.stdout.write(
  `${JSON.stringify({
    importMs: pluginStart - importStart,
    pluginMs: hookStart - pluginStart,
    hookMs: hookEnd - hookStart,
    models,
    served,
    headers: {
      calls: hot.length,
      baseP50: pct(sb, 50),
      baseP99: pct(sb, 99),
      hotP50: pct(sh, 50),
      hotP99: pct(sh, 99),
      roundRatioP50: pct(sortNum(roundRatios), 50),
      clockP50: pct(sortNum(clock), 50),
    },
  })}\n`,
);
await hooks.dispose?.();
process.exit(0);
