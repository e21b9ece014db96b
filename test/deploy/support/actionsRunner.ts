/**
 * Runs the `run:` steps of a GitHub Actions job or composite action on this machine, the way the runner does:
 * each script through `bash --noprofile --norc -eo pipefail`, with GITHUB_ENV / GITHUB_PATH / GITHUB_OUTPUT
 * files carried from step to step, `${{ … }}` expressions of the contexts these files use (inputs, steps,
 * runner, github, env), `if:` conditions, and local composite actions (`uses: ./…`) run recursively.
 * Marketplace actions (`actions/checkout`, `setup-node`, `cache`) cannot run here: they are recorded as skipped,
 * with no outputs, and the caller prepares what they would have done.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

export interface StepRecord {
  name: string;
  status: 'ran' | 'skipped-condition' | 'skipped-remote-action';
  uses?: string;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
}

export interface JobContext {
  workspace: string;
  tempDir: string;
  env: Record<string, string>;
  github: Record<string, string>;
  runner: Record<string, string>;
  /** PATH entries added through GITHUB_PATH, newest first */
  path: string[];
  records: StepRecord[];
  timeoutMs: number;
}

interface Scope {
  inputs: Record<string, string>;
  steps: Record<string, { outputs: Record<string, string>; outcome: string }>;
}

/** Evaluate the small expression language the assets use: paths, literals, ==, !=, ||, &&, !. */
export function evaluate(expression: string, scope: Scope, job: JobContext): string | boolean {
  const expr = expression.trim();
  const orParts = splitTop(expr, '||');
  if (orParts.length > 1) {
    for (const part of orParts) {
      const value = evaluate(part, scope, job);
      if (truthy(value)) return value;
    }
    return evaluate(orParts.at(-1)!, scope, job);
  }
  const andParts = splitTop(expr, '&&');
  if (andParts.length > 1) return andParts.every((part) => truthy(evaluate(part, scope, job)));
  for (const op of ['==', '!='] as const) {
    const sides = splitTop(expr, op);
    if (sides.length === 2) {
      const equal = String(evaluate(sides[0]!, scope, job)) === String(evaluate(sides[1]!, scope, job));
      return op === '==' ? equal : !equal;
    }
  }
  if (expr.startsWith('!')) return !truthy(evaluate(expr.slice(1), scope, job));
  if (/^'.*'$/.test(expr)) return expr.slice(1, -1).replace(/''/g, "'");
  if (expr === 'true' || expr === 'false') return expr === 'true';
  const [head, ...rest] = expr.split('.');
  const lookup = (record: Record<string, unknown> | undefined, keys: string[]): string => {
    let value: unknown = record;
    for (const key of keys) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    return value === undefined || value === null ? '' : String(value);
  };
  switch (head) {
    case 'inputs':
      return lookup(scope.inputs, rest);
    case 'steps':
      return lookup(scope.steps as unknown as Record<string, unknown>, rest);
    case 'runner':
      return lookup(job.runner, rest);
    case 'github':
      return lookup(job.github, rest);
    case 'env':
      return lookup(job.env, rest);
    default:
      throw new Error(`expression not supported by the test runner: ${expr}`);
  }
}

function splitTop(expr: string, op: string): string[] {
  const parts: string[] = [];
  let quote = false;
  let start = 0;
  for (let i = 0; i < expr.length; i += 1) {
    if (expr[i] === "'") quote = !quote;
    if (!quote && expr.startsWith(op, i)) {
      parts.push(expr.slice(start, i));
      start = i + op.length;
      i += op.length - 1;
    }
  }
  parts.push(expr.slice(start));
  return parts.map((part) => part.trim());
}

const truthy = (value: string | boolean) => value !== '' && value !== false && value !== 'false';

export function interpolate(text: string, scope: Scope, job: JobContext): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_match, expr: string) => String(evaluate(expr, scope, job)));
}

function parseKeyValueFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const body: string[] = [];
      for (i += 1; i < lines.length && lines[i] !== heredoc[2]; i += 1) body.push(lines[i]!);
      out[heredoc[1]!] = body.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function runBash(script: string, env: Record<string, string>, cwd: string, timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Run steps in order; a failing `run:` step throws with its output. Returns the steps' outputs by id. */
export async function runSteps(steps: Step[], inputs: Record<string, string>, job: JobContext): Promise<Scope['steps']> {
  const scope: Scope = { inputs, steps: {} };
  for (const [index, step] of steps.entries()) {
    const name = step.name ?? step.id ?? step.uses ?? `step ${index + 1}`;
    const condition = step.if?.replace(/^\$\{\{|\}\}$/g, '');
    if (condition !== undefined && !truthy(evaluate(condition, scope, job))) {
      job.records.push({ name, status: 'skipped-condition', stdout: '', stderr: '', outputs: {} });
      if (step.id) scope.steps[step.id] = { outputs: {}, outcome: 'skipped' };
      continue;
    }
    if (step.uses) {
      const withInputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(String(v), scope, job)]));
      if (step.uses.startsWith('./')) {
        const outputs = await runCompositeAction(path.join(job.workspace, step.uses), withInputs, job);
        if (step.id) scope.steps[step.id] = { outputs, outcome: 'success' };
        continue;
      }
      job.records.push({ name, status: 'skipped-remote-action', uses: step.uses, stdout: '', stderr: '', outputs: {} });
      if (step.id) scope.steps[step.id] = { outputs: {}, outcome: 'success' };
      continue;
    }
    if (step.run === undefined) throw new Error(`step ${name} has neither run nor uses`);
    const files = mkdtempSync(path.join(job.tempDir, 'step-'));
    const githubEnv = path.join(files, 'env');
    const githubPath = path.join(files, 'path');
    const githubOutput = path.join(files, 'output');
    for (const file of [githubEnv, githubPath, githubOutput]) writeFileSync(file, '');
    const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(String(v), scope, job)]));
    const env: Record<string, string> = {
      ...job.env,
      ...stepEnv,
      PATH: [...job.path, job.env.PATH].join(path.delimiter),
      GITHUB_ENV: githubEnv,
      GITHUB_PATH: githubPath,
      GITHUB_OUTPUT: githubOutput,
      GITHUB_WORKSPACE: job.workspace,
      RUNNER_TEMP: job.tempDir,
    };
    const result = await runBash(interpolate(step.run, scope, job), env, job.workspace, job.timeoutMs);
    const outputs = parseKeyValueFile(readFileSync(githubOutput, 'utf8'));
    job.records.push({ name, status: 'ran', stdout: result.stdout, stderr: result.stderr, outputs });
    if (result.code !== 0) {
      throw new Error(`step "${name}" exited ${result.code}\n--- stdout\n${result.stdout.slice(-3000)}\n--- stderr\n${result.stderr.slice(-3000)}`);
    }
    Object.assign(job.env, parseKeyValueFile(readFileSync(githubEnv, 'utf8')));
    const added = readFileSync(githubPath, 'utf8').split('\n').filter(Boolean).reverse();
    job.path.unshift(...added);
    if (step.id) scope.steps[step.id] = { outputs, outcome: 'success' };
  }
  return scope.steps;
}

export interface CompositeAction {
  name: string;
  inputs: Record<string, { description?: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description?: string; value: string }>;
  runs: { using: string; steps: Step[] };
}

export function readYaml<T>(file: string): T {
  return parse(readFileSync(file, 'utf8')) as T;
}

/** Run a local composite action with its declared defaults under `with`; returns its outputs. */
export async function runCompositeAction(dir: string, withInputs: Record<string, string>, job: JobContext) {
  const action = readYaml<CompositeAction>(path.join(dir, 'action.yml'));
  if (action.runs.using !== 'composite') throw new Error(`${dir} is not a composite action`);
  const inputs = Object.fromEntries(
    Object.entries(action.inputs).map(([name, spec]) => [name, withInputs[name] ?? String(spec.default ?? '')]),
  );
  const steps = await runSteps(action.runs.steps, inputs, job);
  const scope: Scope = { inputs, steps };
  return Object.fromEntries(Object.entries(action.outputs).map(([name, spec]) => [name, interpolate(spec.value, scope, job)]));
}
