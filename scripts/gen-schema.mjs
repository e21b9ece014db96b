#!/usr/bin/env node
// Regenerate schema/opencode-oauth-machines.schema.json from the valibot schemas in src/config. The generator is
// TypeScript (test/deploy/support/jsonSchema.ts), so it runs inside the drift test, which rewrites the file when
// UPDATE_SCHEMA=1 is set.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const result = spawnSync('npx', ['vitest', 'run', 'test/deploy/schema.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, UPDATE_SCHEMA: '1' },
});
process.exit(result.status ?? 1);
