// npm run bench (after scripts/bench.mjs) — the keyless-CI gateway against its upstream called directly, in one
// run: requests/s and added p50/p99 latency, 2,000 requests at concurrency 32 on keep-alive connections, one
// instance with budgets in memory and three instances sharing a redis-server; then the budget's exactness
// under concurrency (30 concurrent requests on a budget of 10 across 3 instances).
// Gateways run as child processes through the package bin, as deployed. Numbers are for reading, not asserting.
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startCiIssuer } from '../lab/index.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/opencode-oauth-gateway.mjs');
const REQUESTS = Number(process.env.BENCH_GATEWAY_REQUESTS ?? 2000);
const CONCURRENCY = 32;
const WARMUP = 300;
const AUDIENCE = 'bench-gateway';
// BENCH_GATEWAY_PROFILE=<dir>: every gateway child writes a V8 CPU profile there when it stops.
const PROFILE_FLAGS = process.env.BENCH_GATEWAY_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_GATEWAY_PROFILE}`] : [];
const BODY = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'hello' }] });
const REPLY = JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' } }] });

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function startUpstream() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(REPLY) });
      res.end(REPLY);
    });
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, stop: () => new Promise((r) => { server.close(r); server.closeAllConnections(); }) })));
}

async function startRedis() {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) return undefined;
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start in 10 s')), 10_000);
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => stopChild(child) };
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** One gateway process from the bin; resolves once /healthz answers (bounded). */
async function startGateway(env) {
  const port = await freePort();
  const child = spawn(process.execPath, [...PROFILE_FLAGS, BIN], { env: { PATH: process.env.PATH, ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return { url, pid: child.pid, stop: () => stopChild(child) };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopChild(child);
  throw new Error('gateway did not answer /healthz in 10 s');
}

/**
 * The cost of one more HTTP hop on this machine: a bare node:http reverse proxy (no validation, no budget) in
 * its own process. The gateway's rows read against it too.
 */
const BARE_PROXY = `
const http = require('node:http');
const target = new URL(process.env.TARGET);
const agent = new http.Agent({ keepAlive: true });
http.createServer((req, res) => {
  const out = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  out.on('error', () => res.destroy());
  req.pipe(out);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

async function startBareProxy(target) {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', BARE_PROXY], { env: { PATH: process.env.PATH, TARGET: target, PORT: String(port) }, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return { url, pid: child.pid, stop: () => stopChild(child) };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopChild(child);
  throw new Error('bare proxy did not listen in 10 s');
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url, token) {
  return new Promise((resolve, reject) => {
    const target = new URL('/v1/chat/completions', url);
    const started = performance.now();
    const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out')));
    req.end(BODY);
  });
}

/** `count` requests, `CONCURRENCY` in flight, round-robin over `urls`. */
async function load(urls, token, count) {
  const latencies = [];
  let next = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      const { status, ms } = await post(urls[i % urls.length], token);
      if (status !== 200) failures += 1;
      latencies.push(ms);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { rps: count / seconds, p50: pct(50), p99: pct(99), failures };
}

/**
 * CPU time (user + system, ms) the given processes have used so far, from /proc (Linux; undefined elsewhere).
 * Throughput on a shared 2-core machine swings with whatever else runs; CPU per request barely does.
 */
const TICK_MS = 1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100);
function cpuMsOf(pids) {
  try {
    return pids.reduce((sum, pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) * TICK_MS;
    }, 0);
  } catch {
    return undefined;
  }
}
const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Warm up, then the measured load; with the CPU per request of the proxies (`pids`) and of this process. */
async function measure(urls, token, pids, storePids = []) {
  await load(urls, token, WARMUP);
  const proxyBefore = cpuMsOf(pids);
  const storeBefore = cpuMsOf(storePids);
  const ownBefore = ownCpuMs();
  const result = await load(urls, token, REQUESTS);
  const proxyAfter = cpuMsOf(pids);
  const storeAfter = cpuMsOf(storePids);
  result.storeCpuUs = storePids.length && storeBefore !== undefined && storeAfter !== undefined ? ((storeAfter - storeBefore) * 1000) / REQUESTS : undefined;
  result.benchCpuUs = ((ownCpuMs() - ownBefore) * 1000) / REQUESTS;
  result.proxyCpuUs = pids.length && proxyBefore !== undefined && proxyAfter !== undefined ? ((proxyAfter - proxyBefore) * 1000) / REQUESTS : undefined;
  return result;
}

const ci = await startCiIssuer();
const upstream = await startUpstream();
const redis = await startRedis();
const baseEnv = {
  OIDC_ISSUER: ci.issuer,
  OIDC_AUDIENCE: AUDIENCE,
  UPSTREAM_URL: upstream.url,
  UPSTREAM_AUTH_HEADER: 'Authorization',
  UPSTREAM_AUTH_PREFIX: 'Bearer ',
  UPSTREAM_API_KEY: 'sk-bench',
  MAX_REQUESTS_PER_TOKEN: '100000000',
  RATE_LIMIT_PER_SECOND: '100000000',
};
const started = [];
const rows = [];
let exactness;
const ROUNDS = Number(process.env.BENCH_GATEWAY_ROUNDS ?? 5);
const loadBefore = os.loadavg();
const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
try {
  const token = await ci.mint({ aud: AUDIENCE, ttlSec: 900 });
  const redisToken = await ci.mint({ aud: AUDIENCE, ttlSec: 900 });
  const bare = await startBareProxy(upstream.url);
  const memory = await startGateway(baseEnv);
  const three = redis ? await Promise.all([0, 1, 2].map(() => startGateway({ ...baseEnv, REDIS_URL: redis.url }))) : [];
  // One gateway on Redis: what the shared store costs, apart from what splitting the load over three processes costs.
  const oneRedis = redis ? await startGateway({ ...baseEnv, REDIS_URL: redis.url }) : undefined;
  const oneRedisToken = await ci.mint({ aud: AUDIENCE, ttlSec: 900 });
  started.push(bare, memory, ...three, ...(oneRedis ? [oneRedis] : []));
  const configs = [
    { what: 'upstream direct (baseline)', urls: [upstream.url], token: undefined, pids: [] },
    { what: 'bare node:http proxy (one more hop, reference)', urls: [bare.url], token: undefined, pids: [bare.pid] },
    { what: '1 gateway, budgets in memory', urls: [memory.url], token, pids: [memory.pid] },
    ...(oneRedis ? [{ what: '1 gateway, budgets in Redis', urls: [oneRedis.url], token: oneRedisToken, pids: [oneRedis.pid], storePids: [redis.pid] }] : []),
    ...(redis ? [{ what: '3 gateways sharing Redis', urls: three.map((g) => g.url), token: redisToken, pids: three.map((g) => g.pid), storePids: [redis.pid] }] : []),
  ];
  // Rounds interleave the configurations, so a burst of load from elsewhere on the machine hits them alike;
  // each figure is the median over the rounds.
  const results = configs.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of configs.entries()) results[i].push(await measure(c.urls, c.token, c.pids, c.storePids));
  }
  const summary = results.map((runs) => ({
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    failures: runs.reduce((n, r) => n + r.failures, 0),
    benchCpuUs: median(runs.map((r) => r.benchCpuUs)),
    proxyCpuUs: runs[0].proxyCpuUs === undefined ? undefined : median(runs.map((r) => r.proxyCpuUs)),
    storeCpuUs: runs[0].storeCpuUs === undefined ? undefined : median(runs.map((r) => r.storeCpuUs)),
  }));
  const direct = summary[0];
  for (const [i, m] of summary.entries()) {
    rows.push({
      what: configs[i].what,
      'req/s': m.rps.toFixed(0),
      'throughput vs direct': (m.rps / direct.rps).toFixed(2),
      'p50 ms': m.p50.toFixed(2),
      'p99 ms': m.p99.toFixed(2),
      'added p50 ms': (m.p50 - direct.p50).toFixed(2),
      'added p99 ms': (m.p99 - direct.p99).toFixed(2),
      'proxy CPU µs/req': m.proxyCpuUs === undefined ? '—' : m.proxyCpuUs.toFixed(0),
      'redis-server CPU µs/req': m.storeCpuUs === undefined ? '—' : m.storeCpuUs.toFixed(0),
      'client+upstream CPU µs/req': m.benchCpuUs.toFixed(0),
      'non-200': m.failures,
    });
  }
  await Promise.all([bare, memory, ...three, ...(oneRedis ? [oneRedis] : [])].map((g) => g.stop()));

  if (redis) {
    const budgeted = await Promise.all([0, 1, 2].map(() => startGateway({ ...baseEnv, REDIS_URL: redis.url, MAX_REQUESTS_PER_TOKEN: '10' })));
    started.push(...budgeted);
    const exactToken = await ci.mint({ aud: AUDIENCE });
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => post(budgeted[i % 3].url, exactToken).then((r) => r.status)));
    exactness = { ok: statuses.filter((s) => s === 200).length, budgetExhausted: statuses.filter((s) => s === 429).length, other: statuses.filter((s) => s !== 200 && s !== 429).length };
    await Promise.all(budgeted.map((g) => g.stop()));
  }
} finally {
  await Promise.all(started.map((g) => g.stop()));
  agent.destroy();
  await Promise.all([upstream.stop(), ci.stop(), redis?.stop()]);
}

const loadAfter = os.loadavg();
console.log(`\nopencode-oauth-gateway bench — Node ${process.version}, ${os.cpus().length} CPUs, load average ${loadBefore[0].toFixed(1)} before / ${loadAfter[0].toFixed(1)} after; ${REQUESTS} requests at concurrency ${CONCURRENCY}, keep-alive, median of ${ROUNDS} interleaved rounds`);
console.log('CPU µs/req = user+system time per request of the proxy processes (all three gateways in the Redis row), of redis-server, and of this process (load generator and upstream)');
console.table(rows);
if (exactness) {
  console.log(`budget exactness (30 concurrent requests, budget 10, 3 instances on one Redis): ${exactness.ok} succeeded, ${exactness.budgetExhausted} got 429, ${exactness.other} other — ${exactness.ok === 10 ? 'exact' : 'NOT EXACT'}`);
} else {
  console.log('redis-server not found: the Redis rows were skipped (apt-get install -y redis-server)');
}
