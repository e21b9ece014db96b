import { defineConfig } from 'tsdown';

const common = {
  format: 'esm',
  platform: 'node',
  target: 'node20',
  dts: true,
  external: ['@statelyai/inspect', 'ws'],
} as const;

// The engine for other agents and the bare machines: xstate stays the consumer's own copy (their
// createActor runs our machines). The inspector stays an optional peer: bundling it would add ~200 kB.
// The OpenCode entry (exports only plugin functions) is its own bundle with xstate's ESM build and the
// valibot functions it uses inlined: Node loads xstate's package entry as CommonJS and valibot whole,
// which was a third of the entry's import time. ky, jose and zod stay packages, imported on first use.
export default defineConfig([
  { ...common, entry: { engine: 'src/engine.ts', machines: 'src/machines/index.ts' }, clean: true },
  { ...common, entry: { index: 'src/index.ts' }, clean: false, noExternal: ['xstate', 'valibot'] },
]);
