import { defineConfig } from 'tsdown';

// Three public entries: the OpenCode plugin (exports only plugin functions), the engine for other agents,
// and the bare machines. The inspector stays an optional peer: bundling it would add ~200 kB to every load.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    engine: 'src/engine.ts',
    machines: 'src/machines/index.ts',
    // The keyless-CI gateway: its own entries, so the plugin never loads Hono or Redis (docs/gateway.md).
    gateway: 'src/gateway/index.ts',
    'gateway-cli': 'src/gateway/cli.ts',
    'gateway-workers': 'src/gateway/workers.ts',
  },
  format: 'esm',
  platform: 'node',
  target: 'node20',
  dts: true,
  clean: true,
  external: ['@statelyai/inspect', 'ws', 'hono', /^hono\//, '@hono/node-server', 'ioredis'],
});
