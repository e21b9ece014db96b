// One process at the expiry edge for `npm run bench`: its own engine over the shared store; waits for "go",
// asks for a token once and reports how long it waited (lock wait + refresh or adoption).
import { performance } from 'node:perf_hooks';
import { createFileStore, createTokenEngine } from '../dist/engine.mjs';

const { servers, dir, shiftMs } = JSON.parse(process.env.BENCH_CHILD_CONFIG);
const engine = createTokenEngine({ servers, store: createFileStore({ dir }), now: () => Date.now() + shiftMs, notify: () => {} });
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const start = performance.now();
  try {
    const token = await engine.getToken(servers[0].id);
    process.stdout.write(JSON.stringify({ ok: true, accessToken: token.accessToken, waitMs: performance.now() - start }) + '\n');
  } catch (error) {
    process.stdout.write(JSON.stringify({ ok: false, code: error.code, waitMs: performance.now() - start }) + '\n');
  }
  engine.stop();
  process.exit(0);
});
