// `opencode-ai` lists one optional binary package per platform. This machine's registry serves only the
// Linux x64 ones, so `npm install` leaves the others out of package-lock.json, and `npm ci` then refuses
// the lockfile ("Missing: opencode-darwin-arm64@ from lock file"). This script adds the missing entries with
// their os/cpu/libc, which is all `npm ci` needs to skip them on a platform they do not fit.
// Run it after any `npm install` that rewrites package-lock.json: `node scripts/lockfile-platforms.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const opencode = lock.packages['node_modules/opencode-ai'];
if (!opencode) throw new Error('opencode-ai is not in package-lock.json');

const platform = (name) => {
  const [, os, cpu, ...rest] = name.split('-');
  return {
    os: [os === 'windows' ? 'win32' : os],
    cpu: [cpu],
    ...(rest.includes('musl') ? { libc: ['musl'] } : {}),
  };
};

let added = 0;
for (const [name, version] of Object.entries(opencode.optionalDependencies ?? {})) {
  const key = `node_modules/${name}`;
  if (lock.packages[key]) continue;
  lock.packages[key] = { version, optional: true, ...platform(name) };
  added++;
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`package-lock.json: ${added} platform entr${added === 1 ? 'y' : 'ies'} added`);
