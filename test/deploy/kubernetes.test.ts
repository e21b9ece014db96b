/**
 * examples/kubernetes and docs/kubernetes.md: every manifest validates against the Kubernetes OpenAPI schemas
 * (kubernetes-models' generated validators), the pods are consistent with the ConfigMap's opencode.json (each
 * tokenPath is a projected token with an audience, the token store is on a writable volume, the plugin entry is
 * where the Containerfile installs it, no npm at start-up), and the ConfigMap's config runs in the real OpenCode
 * CLI against the lab with kubelet-style projected token files, both providers answering.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { ServiceAccount, ConfigMap } from 'kubernetes-models/v1';
import { Job, CronJob } from 'kubernetes-models/batch/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, answerText, isolatedEnv, pluginUrl, runOpencode, startLab } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { describeRun, tempRoot } from '../e2e/harness.js';
import { codeBlocks } from './support/markdown.js';

const DIR = path.join(REPO_ROOT, 'examples/kubernetes');
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ServiceAccount': ServiceAccount as never,
  'v1/ConfigMap': ConfigMap as never,
  'batch/v1/Job': Job as never,
  'batch/v1/CronJob': CronJob as never,
  'apps/v1/Deployment': Deployment as never,
};

type Doc = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };
const manifests: Array<{ file: string; doc: Doc }> = readdirSync(DIR)
  .filter((file) => file.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((document) => ({ file, doc: document.toJS() as Doc })),
  );

function validateManifest(doc: Doc) {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc as never).validate();
}

interface Container {
  env?: Array<{ name: string; value?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  args?: string[];
  command?: string[];
}
interface PodSpec {
  containers: Container[];
  volumes: Array<{
    name: string;
    emptyDir?: object;
    configMap?: { name: string };
    projected?: { sources: Array<{ serviceAccountToken?: { path: string; audience?: string; expirationSeconds?: number } }> };
  }>;
}

function podSpecOf(doc: Doc): PodSpec | undefined {
  const spec = doc.spec as Record<string, any> | undefined;
  if (doc.kind === 'Job' || doc.kind === 'Deployment') return spec?.template?.spec;
  if (doc.kind === 'CronJob') return spec?.jobTemplate?.spec?.template?.spec;
  return undefined;
}

const configMap = manifests.find((m) => m.doc.kind === 'ConfigMap')!.doc as Doc & { data: Record<string, string> };
const opencodeJson = JSON.parse(configMap.data['opencode.json']!) as {
  plugin: string[];
  provider: Record<string, { options: { baseURL: string; oauth2: Record<string, any> } }>;
};
const workloads = manifests.filter((m) => podSpecOf(m.doc));

describe('examples/kubernetes manifests', () => {
  it('has a Job, a CronJob, a Deployment, a ConfigMap and a ServiceAccount', () => {
    expect(manifests.map((m) => m.doc.kind).sort()).toEqual(['ConfigMap', 'CronJob', 'Deployment', 'Job', 'ServiceAccount']);
  });

  it.each(manifests.map((m) => [`${m.file} (${m.doc.kind})`, m.doc] as const))('%s validates against the Kubernetes OpenAPI schema', (_name, doc) => {
    expect(() => validateManifest(doc)).not.toThrow();
  });

  it('the validator refuses a broken manifest (wrong type, bad enum)', () => {
    const job = structuredClone(workloads.find((m) => m.doc.kind === 'Job')!.doc) as any;
    job.spec.template.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds = '3600';
    job.spec.template.spec.restartPolicy = 'Sometimes';
    expect(() => validateManifest(job)).toThrow(/expirationSeconds must be integer[\s\S]*|restartPolicy/);
  });

  it.each(workloads.map((m) => [m.doc.kind, m.doc] as const))('%s: mounts, projected tokens, token store and config agree with opencode.json', (_kind, doc) => {
    const pod = podSpecOf(doc)!;
    const [container] = pod.containers;
    const env = Object.fromEntries((container!.env ?? []).map((e) => [e.name, e.value]));
    const mounts = container!.volumeMounts ?? [];
    const volume = (name: string) => pod.volumes.find((v) => v.name === name);
    expect(mounts.filter((mount) => !volume(mount.name))).toEqual([]);

    // Every provider's tokenPath is a projected SA token of this pod, with an audience and a sane lifetime.
    for (const [id, provider] of Object.entries(opencodeJson.provider)) {
      const tokenPath = provider.options.oauth2.subjectTokenSource.tokenPath as string;
      const mount = mounts.find((m) => tokenPath.startsWith(`${m.mountPath}/`));
      expect(mount, `${id}: ${tokenPath} is mounted`).toBeDefined();
      expect(mount!.readOnly).toBe(true);
      const source = volume(mount!.name)!.projected!.sources.find((s) => s.serviceAccountToken?.path === path.relative(mount!.mountPath, tokenPath));
      expect(source, `${id}: projected source for ${tokenPath}`).toBeDefined();
      expect(source!.serviceAccountToken!.audience).toMatch(/^https?:\/\/|^[\w-]+$/);
      expect(source!.serviceAccountToken!.expirationSeconds).toBeGreaterThanOrEqual(600);
      // The audience of prod's token is what its IdP expects as aud: the provider's issuer.
      if (provider.options.oauth2.authFlow === 'jwt_bearer') expect(source!.serviceAccountToken!.audience).toBe(provider.options.oauth2.issuer);
    }
    // Two providers, two audiences: a token leaked from one cannot be replayed at the other.
    const audiences = pod.volumes.flatMap((v) => v.projected?.sources.map((s) => s.serviceAccountToken?.audience) ?? []);
    expect(new Set(audiences).size).toBe(Object.keys(opencodeJson.provider).length);

    // The token store ($XDG_CACHE_HOME/opencode-oauth-machines/…) is on a writable emptyDir.
    const storeMount = mounts.find((m) => m.mountPath === env.XDG_CACHE_HOME);
    expect(storeMount, 'XDG_CACHE_HOME is a mount').toBeDefined();
    expect(storeMount!.readOnly).not.toBe(true);
    expect(volume(storeMount!.name)!.emptyDir).toBeDefined();

    // The config is the ConfigMap's opencode.json, as a file (OPENCODE_CONFIG), read-only.
    const configMount = mounts.find((m) => env.OPENCODE_CONFIG === `${m.mountPath}/opencode.json`);
    expect(configMount?.readOnly).toBe(true);
    expect(volume(configMount!.name)!.configMap!.name).toBe(configMap.metadata.name);
    expect(env.OPENCODE_CONFIG_DIR).toBeUndefined();
    expect([...(container!.command ?? []), ...(container!.args ?? [])].join(' ')).not.toMatch(/\bnpm\b|\bnpx\b/);
  });

  it('the Containerfile pre-installs OpenCode and the plugin where opencode.json loads it, and pre-seeds the config dir', () => {
    const containerfile = readFileSync(path.join(DIR, 'Containerfile'), 'utf8');
    const pluginDir = opencodeJson.plugin[0]!.replace(/^file:\/\//, '');
    expect(pluginDir).toBe('/opt/opencode-plugins/node_modules/opencode-oauth-machines');
    expect(containerfile).toMatch(/cd \/opt\/opencode-plugins .*\n.*npm install .*\/tmp\/plugin\.tgz/);
    expect(containerfile).toMatch(/npm install .*"opencode-ai@\$\{OPENCODE_VERSION\}"/);
    expect(containerfile).toContain('/etc/xdg/opencode/package-lock.json');
    expect(containerfile).toContain('"@opencode-ai/plugin":"*"');
    expect(containerfile).toMatch(/^ENTRYPOINT \["opencode"\]$/m);
    const runLines = containerfile.split('\n').filter((line) => /^(ENTRYPOINT|CMD)/.test(line));
    expect(runLines.join(' ')).not.toMatch(/npm/);
  });

  it('opencode.json of the ConfigMap validates against the plugin\'s JSON Schema', () => {
    const schema = JSON.parse(readFileSync(path.join(REPO_ROOT, 'schema/opencode-oauth-machines.schema.json'), 'utf8'));
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    expect(validate(opencodeJson), JSON.stringify(validate.errors)).toBe(true);
  });

  it('docs/kubernetes.md: its YAML snippets parse and every manifest it names exists', () => {
    const guide = readFileSync(path.join(REPO_ROOT, 'docs/kubernetes.md'), 'utf8');
    for (const block of codeBlocks(guide).filter((b) => b.lang === 'yaml')) {
      const docs = parseAllDocuments(block.code);
      expect(docs.every((d) => d.errors.length === 0), `line ${block.line}`).toBe(true);
      for (const d of docs) {
        const doc = d.toJS() as Doc | null;
        if (doc?.apiVersion && doc.kind) expect(() => validateManifest(doc), `line ${block.line}`).not.toThrow();
      }
    }
    for (const [, file] of guide.matchAll(/\(\.\.\/examples\/kubernetes\/([\w.-]+)\)/g)) {
      expect(readdirSync(DIR)).toContain(file);
    }
  });
});

describe('the pod, played on this machine', () => {
  let lab: E2eLab;
  const root = tempRoot('k8s');
  beforeAll(async () => {
    lab = await startLab({ models: ['lab-model'] });
  });
  afterAll(async () => {
    await lab?.stop();
    root.remove();
  });

  it('both providers of the ConfigMap answer with projected token files; the store lands in the emptyDir', async () => {
    const tokens = root.dir('var/run/secrets/tokens/oauth2');
    const cache = root.dir('var/cache/opencode');
    mkdirSync(cache, { recursive: true });
    const config = structuredClone(opencodeJson);
    config.plugin = [pluginUrl()];
    for (const provider of Object.values(config.provider)) {
      const source = provider.options.oauth2.subjectTokenSource;
      const file = path.join(tokens, path.basename(source.tokenPath));
      // The lab IdP trusts the CI issuer for tokens whose aud is the IdP's issuer. (Written by rename: the lab's
      // kubelet-style swap handles one file per volume, and this volume has two.)
      await lab.ci.writeProjectedToken(file, { aud: lab.idp.issuer, namespace: 'ai-jobs', serviceAccount: 'opencode-runner' });
      source.tokenPath = file;
      provider.options.baseURL = lab.gateway.baseURL;
      provider.options.oauth2.issuer = lab.idp.issuer;
      provider.options.oauth2.clientId = lab.idp.clients.ci.client_id;
      provider.options.oauth2.scopes = ['api:read'];
    }
    const configFile = root.dir('etc/opencode/opencode.json');
    mkdirSync(path.dirname(configFile), { recursive: true });
    writeFileSync(configFile, JSON.stringify(config));
    const project = root.dir('work');
    mkdirSync(project, { recursive: true });
    const env = isolatedEnv(root.dir('state'), { OPENCODE_CONFIG: configFile, XDG_CACHE_HOME: cache });

    const outputs = new Map<string, string>();
    for (const id of Object.keys(config.provider)) {
      const result = await runOpencode({ cwd: project, env, args: ['run', '--format', 'json', '--model', `${id}/lab-model`, 'hello'], timeoutMs: 60_000 });
      expect(result.code, `${id}: ${describeRun(result)} ${result.stdout.slice(-600)}`).toBe(0);
      expect(answerText(result.stdout)).toContain('sub=system:serviceaccount:ai-jobs:opencode-runner');
      outputs.set(`${id} stdout`, result.stdout).set(`${id} stderr`, result.stderr);
    }
    const store = path.join(cache, 'opencode-oauth-machines', 'tokens');
    expect(readdirSync(store).length).toBeGreaterThanOrEqual(1);
    expect(lab.secrets.sweep({ texts: Object.fromEntries(outputs.entries()), paths: [root.dir('state'), project], exclude: [store, tokens] })).toEqual([]);
  }, 150_000);
});
