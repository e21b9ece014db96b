import { defineConfig } from 'tsdown';

const common = {
  format: 'esm',
  platform: 'node',
  target: 'node20',
  dts: true,
  external: ['@statelyai/inspect', 'ws', 'hono', /^hono\//, '@hono/node-server', 'ioredis'],
} as const;

// The engine for other agents, the bare machines and the keyless-CI gateway: xstate stays the consumer's own
// copy (their createActor runs our machines). The gateway has entries of its own, so the plugin never loads
// Hono or Redis (docs/gateway.md). The inspector stays an optional peer: bundling it would add ~200 kB.
// The OpenCode entry (exports only plugin functions) is its own bundle with xstate's ESM build and the
// valibot functions it uses inlined: Node loads xstate's package entry as CommonJS and valibot whole,
// which was a third of the entry's import time. ky, jose and zod stay packages, imported on first use.
export default defineConfig([
  {
    ...common,
    entry: {
      engine: 'src/engine.ts',
      machines: 'src/machines/index.ts',
      gateway: 'src/gateway/index.ts',
      'gateway-cli': 'src/gateway/cli.ts',
      'gateway-workers': 'src/gateway/workers.ts',
    },
    clean: true,
  },
  { ...common, entry: { index: 'src/index.ts' }, clean: false, noExternal: ['xstate', 'valibot'] },
]);
