/**
 * A minimal npm registry on 127.0.0.1 serving the plugin's runtime dependencies, packed from this checkout's
 * node_modules. OpenCode's embedded npm (arborist) installs a tarball or git plugin spec and then resolves the
 * package's dependencies from a registry; this one lets that real install run with no network.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface LocalRegistry {
  url: string;
  /** package names that were asked for (packuments) */
  served: string[];
  stop(): Promise<void>;
}

interface Entry {
  name: string;
  version: string;
  tarball: Buffer;
  file: string;
  manifest: Record<string, unknown>;
}

/** Pack `node_modules/<name>` for each name (no lifecycle scripts, nothing fetched). */
function packInstalled(repoRoot: string, names: string[], outDir: string): Entry[] {
  mkdirSync(outDir, { recursive: true });
  return names.map((name) => {
    const dir = path.join(repoRoot, 'node_modules', name);
    const before = new Set(readdirSync(outDir));
    execFileSync('npm', ['pack', dir, '--ignore-scripts', '--pack-destination', outDir, '--silent'], {
      cwd: outDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = readdirSync(outDir).find((entry) => !before.has(entry) && entry.endsWith('.tgz'));
    if (!file) throw new Error(`npm pack ${name} produced no tarball`);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    return { name, version: String(manifest.version), tarball: readFileSync(path.join(outDir, file)), file, manifest };
  });
}

export async function startLocalRegistry(repoRoot: string, names: string[], workDir: string): Promise<LocalRegistry> {
  const entries = packInstalled(repoRoot, names, workDir);
  const served: string[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const pathname = decodeURIComponent(url.pathname);
    const tarball = entries.find((entry) => pathname === `/${entry.name}/-/${entry.file}`);
    if (tarball) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.tarball.length });
      res.end(tarball.tarball);
      return;
    }
    const entry = entries.find((candidate) => pathname === `/${candidate.name}`);
    if (!entry) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
      return;
    }
    served.push(entry.name);
    const { dependencies, peerDependencies, peerDependenciesMeta, engines, bin } = entry.manifest;
    const integrity = `sha512-${createHash('sha512').update(entry.tarball).digest('base64')}`;
    const body = {
      name: entry.name,
      'dist-tags': { latest: entry.version },
      versions: {
        [entry.version]: {
          name: entry.name,
          version: entry.version,
          ...(dependencies ? { dependencies } : {}),
          ...(peerDependencies ? { peerDependencies } : {}),
          ...(peerDependenciesMeta ? { peerDependenciesMeta } : {}),
          ...(engines ? { engines } : {}),
          ...(bin ? { bin } : {}),
          dist: { tarball: `${base}/${entry.name}/-/${entry.file}`, integrity },
        },
      },
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/`,
    served,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
