// npm run bench — the figures of issue 8 item 7, each beside a baseline measured in this same process (or a
// fresh process for imports). Numbers are for reading, not asserting: tests never time anything.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const scratch = await mkdtemp(join(tmpdir(), 'oauth-bench-'));
// The plugin entry builds its singleton at import: point its store at scratch space first.
process.env.XDG_CACHE_HOME = join(scratch, 'cache');
process.env.CI = 'true';

const { createFileStore, createTokenEngine } = await import('../dist/engine.mjs');
const { BROWSER_SCRIPT, startGateway, startIdp } = await import('../lab/index.mjs');

const HOUR = 3_600_000;
const rounds = Number(process.env.BENCH_ROUNDS ?? 20_000);
const QUIET_RUNS = Number(process.env.BENCH_QUIET_RUNS ?? 5);
const QUIET_ROUNDS = Number(process.env.BENCH_QUIET_ROUNDS ?? 20);
let labChild;
const rows = [];
const row = (what, value, baseline, goal) => rows.push({ what, value, baseline: baseline ?? '', goal: goal ?? '' });
const us = (ms) => `${(ms * 1000).toFixed(ms < 0.001 ? 3 : 2)} µs`;
const ms = (v) => `${v.toFixed(1)} ms`;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const sortNum = (values) => [...values].sort((a, b) => a - b);

async function perCall(fn, n) {
  for (let i = 0; i < 2000; i++) await fn();
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    samples[i] = performance.now() - start;
  }
  return sortNum(samples);
}

function freshProcessImportMs(specifier, times = 5) {
  const code = `const t=performance.now();await import(${JSON.stringify(specifier)});process.stdout.write(String(performance.now()-t))`;
  const samples = Array.from({ length: times }, () => Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' })));
  return sortNum(samples)[Math.floor(times / 2)];
}

const idp = await startIdp({ accessTokenTtl: 300 });
const gateway = await startGateway({ idp });
const machineServer = (id = 'svc') => ({
  id,
  issuer: idp.issuer,
  baseURL: gateway.baseURL,
  clientId: idp.clients.basic.client_id,
  clientSecret: idp.clients.basic.client_secret,
  clientAuthMethod: 'client_secret_basic',
  scopes: ['api:read'],
  authFlow: 'client_credentials',
});
const providerBlock = (id) => {
  const { id: _id, baseURL, ...oauth2 } = machineServer(id);
  return { name: `Bench ${id}`, options: { baseURL, oauth2 } };
};
const fakeClient = { app: { log: async () => ({ data: true }) }, tui: { showToast: async () => ({ data: true }) } };

try {
  // 1. Import of the plugin entry in a fresh process, beside an empty module.
  const empty = join(scratch, 'empty.mjs');
  await writeFile(empty, 'export {};\n');
  const importEmpty = freshProcessImportMs(empty);
  const importPlugin = freshProcessImportMs(join(root, 'dist/index.mjs'));
  row('import dist/index.mjs, fresh process (median of 5)', ms(importPlugin), `${ms(importEmpty)} empty module (×${(importPlugin / importEmpty).toFixed(1)})`, '≤ 45 ms');

  // 1b. The first config hook (1 provider) and chat.headers in quiet processes: the lab in its own process,
  // the plugin in a fresh one per run, so only the plugin's work is timed and nothing else settles around it.
  // The first runs are not counted: the lab's own first requests (its JIT warm-up) are not the plugin's cost.
  const labState = join(scratch, 'lab.json');
  labChild = spawn(process.execPath, [join(root, 'lab/serve.mjs'), '--state', labState], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    labChild.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes('lab ready')) resolve();
    });
    labChild.once('exit', (code) => reject(new Error(`lab/serve.mjs exited (${code})`)));
  });
  const quietRuns = [];
  const floorRuns = [];
  const benchHook = (config) => {
    const out = execFileSync(process.execPath, ['--expose-gc', join(root, 'scripts/bench-hook.mjs')], { env: { ...process.env, BENCH_HOOK_CONFIG: JSON.stringify(config) }, encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').pop());
  };
  const WARM_RUNS = 3;
  // A freshly started oidc-provider answers its first few dozen requests slower (its JIT): warm it up first.
  for (let run = 0; run < 15; run++) benchHook({ state: labState, cacheHome: join(scratch, `warm${run}`), floor: true });
  for (let run = 0; run < WARM_RUNS + QUIET_RUNS; run++) {
    // Alternating with the floor, so load on the shared machine hits both alike.
    const result = benchHook({ state: labState, cacheHome: join(scratch, `quiet${run}`), rounds: QUIET_ROUNDS, perRound: 1000 });
    if (!result.served || result.models !== 1) throw new Error(`bench-hook run ${run}: no token or no model list (${JSON.stringify(result)})`);
    const floor = benchHook({ state: labState, cacheHome: join(scratch, `floor${run}`), floor: true });
    if (floor.models !== 1) throw new Error(`bench-hook floor run ${run}: no model list`);
    if (run >= WARM_RUNS) {
      quietRuns.push(result);
      floorRuns.push(floor);
    }
  }
  const medianOf = (pick, runs = quietRuns) => sortNum(runs.map(pick))[Math.floor(runs.length / 2)];
  const quietHook = medianOf((r) => r.hookMs);
  const quietImport = medianOf((r) => r.importMs);
  const floorMs = medianOf((r) => r.floorMs, floorRuns);
  row(
    `config hook, 1 provider, lab in its own process, fresh process (median of ${QUIET_RUNS})`,
    ms(quietHook),
    `${ms(quietImport)} import alone, same processes (×${(quietHook / quietImport).toFixed(1)}); plugin function before it ${ms(medianOf((r) => r.pluginMs))}`,
    '≤ 60 ms',
  );
  row(
    `floor: import ky + the same 3 requests, plain, fresh process (median of ${QUIET_RUNS})`,
    ms(floorMs),
    `config hook above ×${(quietHook / floorMs).toFixed(2)} of it`,
    '',
  );
  const q = (key) => medianOf((r) => r.headers[key]);
  row(
    `chat.headers p50, quiet 1-provider process (median of ${QUIET_RUNS} processes × ${QUIET_ROUNDS} interleaved rounds × 1000 calls)`,
    us(q('hotP50')),
    `${us(q('baseP50'))} constant-header hook (×${medianOf((r) => r.headers.hotP50 / r.headers.baseP50).toFixed(2)}); constant hook + one Date.now() ${us(q('clockP50'))}`,
    '≤ 2×',
  );
  row(`chat.headers p99, quiet 1-provider process`, us(q('hotP99')), `${us(q('baseP99'))} constant-header hook (×${medianOf((r) => r.headers.hotP99 / r.headers.baseP99).toFixed(2)})`, '≤ 2×, ≤ 5 µs');
  labChild.kill('SIGTERM');
  labChild = undefined;

  // 2. The config hook with 1 / 10 / 50 client_credentials providers, beside that import. The lab runs in this
  // process, so its work (and its first requests' warm-up) is inside these figures; the first hook in the
  // process also pays for loading the fetch stack.
  const { OAuthMachinesPlugin } = await import('../dist/index.mjs');
  let hooks;
  for (const count of [1, 10, 50]) {
    hooks = await OAuthMachinesPlugin({ client: fakeClient, directory: scratch, worktree: scratch }, undefined);
    const provider = Object.fromEntries(Array.from({ length: count }, (_, i) => [`svc${count}x${i}`, providerBlock(`svc${count}x${i}`)]));
    const start = performance.now();
    await hooks.config({ provider });
    const elapsed = performance.now() - start;
    row(`config hook, ${count} provider(s), lab in this process`, ms(elapsed), `${ms(importPlugin)} import alone (×${(elapsed / importPlugin).toFixed(1)})`, count === 1 ? '≤ 60 ms' : '');
    if (count !== 50) await hooks.dispose?.();
  }

  // 3. chat.headers with a valid token, beside a hook that sets a constant header, in this process just after
  // 50 providers started (their background work still settling): the loaded case, one round each.
  const input = { model: { providerID: 'svc50x0', id: 'lab-model' }, provider: { info: { id: 'svc50x0' } } };
  await hooks['chat.headers'](input, { headers: {} });
  const constantHook = async (_input, output) => {
    output.headers.Authorization = 'Bearer constant';
  };
  const base = await perCall(() => constantHook(input, { headers: {} }), rounds);
  const hot = await perCall(() => hooks['chat.headers'](input, { headers: {} }), rounds);
  row(`chat.headers p50 (${rounds} calls), after 50 providers started`, us(pct(hot, 50)), `${us(pct(base, 50))} constant-header hook (×${(pct(hot, 50) / pct(base, 50)).toFixed(2)})`, '≤ 2×');
  row(`chat.headers p99, after 50 providers started`, us(pct(hot, 99)), `${us(pct(base, 99))} constant-header hook (×${(pct(hot, 99) / pct(base, 99)).toFixed(2)})`, '≤ 2×, ≤ 5 µs');
  await hooks.dispose?.();

  // 4. A burst of callers on an expired token: one IdP request each time; how long the callers waited.
  const shift = { ms: 0 };
  const engine = createTokenEngine({ servers: [machineServer()], store: createFileStore({ dir: join(scratch, 'burst') }), now: () => Date.now() + shift.ms, notify: () => {} });
  await engine.getToken('svc');
  const directStart = performance.now();
  await fetch(idp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${idp.clients.basic.client_id}:${idp.clients.basic.client_secret}`).toString('base64')}` },
    body: 'grant_type=client_credentials&scope=api%3Aread',
  }).then((r) => r.json());
  const direct = performance.now() - directStart;
  for (const burst of [1, 10, 100, 1000]) {
    shift.ms += HOUR;
    idp.resetCounters();
    const start = performance.now();
    const waits = sortNum(await Promise.all(Array.from({ length: burst }, () => engine.getToken('svc').then(() => performance.now() - start))));
    row(
      `burst of ${burst} on an expired token: IdP requests ${idp.grantCount('client_credentials').requests}`,
      `wait p50 ${ms(pct(waits, 50))}, p99 ${ms(pct(waits, 99))}`,
      `${ms(direct)} one direct token request`,
      '1 request',
    );
  }

  // 5. A simulated hour of 5-minute tokens, a request every 5 s: how many waited on the IdP.
  idp.resetCounters();
  let waited = 0;
  let requests = 0;
  for (let t = 0; t < HOUR; t += 5_000) {
    shift.ms += 5_000;
    const servable = engine.status()[0].servable;
    await engine.getToken('svc');
    requests += 1;
    if (!servable) waited += 1;
    // Real time between requests lets a background renewal finish.
    for (let i = 0; i < 200 && engine.status()[0].state === 'renewing'; i++) await new Promise((r) => setTimeout(r, 5));
  }
  row('simulated hour, 5-min tokens, 1 request / 5 s', `${waited}/${requests} waited (${((100 * waited) / requests).toFixed(1)} %)`, `${idp.grantCount('client_credentials').requests} token requests`, '0 waited');
  engine.stop();

  // 6. 2 / 4 / 8 processes at the expiry edge of a user token (strict rotation): one refresh grant.
  const dir = join(scratch, 'shared');
  const userServer = { id: 'corp', issuer: idp.issuer, baseURL: gateway.baseURL, clientId: idp.clients.native.client_id, scopes: ['openid', 'offline_access', 'api:read'], authFlow: 'authorization_code' };
  const login = createTokenEngine({ servers: [userServer], store: createFileStore({ dir }), notify: () => {}, flowDeps: { env: { ...process.env, BROWSER: `${process.execPath} ${BROWSER_SCRIPT}` } } });
  await login.login('corp');
  login.stop();
  let edge = 0;
  for (const count of [2, 4, 8]) {
    edge += HOUR;
    idp.resetCounters();
    const children = Array.from({ length: count }, () =>
      spawn(process.execPath, [join(root, 'scripts/bench-child.mjs')], { env: { ...process.env, BENCH_CHILD_CONFIG: JSON.stringify({ servers: [userServer], dir, shiftMs: edge }) }, stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const lines = children.map((child) => {
      const out = [];
      child.stdout.on('data', (d) => out.push(String(d)));
      return () => out.join('').trim().split('\n');
    });
    const until = async (pred) => {
      for (let i = 0; i < 600 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
    };
    await until(() => lines.every((l) => l()[0] === 'ready'));
    children.forEach((c) => c.stdin.write('go\n'));
    await until(() => lines.every((l) => l().length >= 2));
    const results = lines.map((l) => JSON.parse(l()[1] ?? '{"ok":false,"waitMs":0}'));
    const waits = sortNum(results.map((r) => r.waitMs));
    const grants = idp.grantCount('refresh_token');
    row(
      `${count} processes at the expiry edge: refresh grants ${grants.requests}, invalid_grant ${grants.errors.invalid_grant ?? 0}, ok ${results.filter((r) => r.ok).length}/${count}`,
      `wait (lock + refresh or adopt) p95 ${ms(pct(waits, 95))}`,
      `${ms(direct)} one direct token request`,
      '1 grant, 0 invalid_grant',
    );
    children.forEach((c) => c.kill());
  }

  // 7. Bundle size.
  for (const file of (await readdir(join(root, 'dist'))).filter((f) => f.endsWith('.mjs')).sort()) {
    const bytes = readFileSync(join(root, 'dist', file));
    row(`dist/${file}`, `${(bytes.length / 1024).toFixed(1)} kB`, `${(gzipSync(bytes).length / 1024).toFixed(1)} kB gzip`, '');
  }
  void stat;
} finally {
  labChild?.kill('SIGTERM');
  await gateway.stop();
  await idp.stop();
  await rm(scratch, { recursive: true, force: true });
}

console.log(`opencode-oauth-machines bench — Node ${process.version}, ${new Date().toISOString()}`);
console.table(rows);
process.exit(0);
