/**
 * Vitest side of the end-to-end harness: one temp root per test file, one isolated OpenCode state dir per
 * scenario, and the leak sweep at the end of each scenario. The process-level parts live in
 * scripts/e2e-support (shared with `npm run demo`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  answerText,
  isolatedEnv,
  pluginUrl,
  runOpencode,
  shownErrors,
  spawnOpencode,
  stateDirs,
  writeProject,
} from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import type { OpencodeProcess, RunResult } from '../../scripts/e2e-support/run.mjs';

export { answerText, pluginUrl, shownErrors };
export type { RunResult };

/** Hard deadline of one `opencode run` in a scenario (a warm run takes ~3 s on 2 cores; 6 in parallel ~15 s). */
export const RUN_TIMEOUT_MS = 45_000;

/** A temp root for one test file; `remove()` in afterAll. */
export function tempRoot(name: string) {
  const root = mkdtempSync(path.join(os.tmpdir(), `oc-e2e-${name}-`));
  return {
    root,
    dir: (sub: string) => path.join(root, sub),
    remove: () => {
      if (!process.env.OPENCODE_E2E_KEEP) rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface ScenarioOptions {
  /** opencode.json of the project (the plugin entry is added unless `plugin` is given) */
  config: Record<string, unknown>;
  /** extra environment for every run */
  env?: Record<string, string | undefined>;
}

/**
 * One isolated OpenCode: its own state dir and project dir. Every run's output is kept for the sweep.
 */
export class Scenario {
  readonly stateDir: string;
  readonly projectDir: string;
  readonly env: Record<string, string>;
  readonly runs: RunResult[] = [];

  constructor(
    root: string,
    readonly name: string,
    options: ScenarioOptions,
  ) {
    this.stateDir = path.join(root, name, 'state');
    this.projectDir = path.join(root, name, 'project');
    this.env = isolatedEnv(this.stateDir, options.env);
    writeProject(this.projectDir, { plugin: [pluginUrl()], ...options.config });
  }

  get dirs() {
    return stateDirs(this.stateDir);
  }

  /** `opencode <args>`; resolves with the result (never rejects on a non-zero exit). */
  async opencode(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}) {
    const result = await runOpencode({
      cwd: this.projectDir,
      env: { ...this.env, ...options.env },
      args,
      timeoutMs: options.timeoutMs ?? RUN_TIMEOUT_MS,
      stateDir: this.stateDir,
    });
    this.runs.push(result);
    return result;
  }

  /**
   * `opencode run --format json --log-level DEBUG --model <model> <prompt>`. DEBUG makes OpenCode and the
   * plugin (which follows OpenCode's level) log the most, so the leak sweep sees the most.
   */
  run(model: string, prompt = 'hello', options: { env?: Record<string, string>; timeoutMs?: number } = {}) {
    return this.opencode(runArgs(model, prompt), options);
  }

  /** Start `opencode run` and return the live process (to read a device code from its stderr while it waits). */
  start(model: string, prompt = 'hello', options: { env?: Record<string, string>; timeoutMs?: number } = {}): OpencodeProcess {
    const proc = spawnOpencode({
      cwd: this.projectDir,
      env: { ...this.env, ...options.env },
      args: runArgs(model, prompt),
      timeoutMs: options.timeoutMs ?? RUN_TIMEOUT_MS,
      stateDir: this.stateDir,
    });
    void proc.done.then((result) => this.runs.push(result), () => undefined);
    return proc;
  }

  /**
   * Every known lab secret looked for in everything OpenCode and the plugin wrote: all stdout/stderr of the
   * scenario, the whole state dir (logs, auth.json, opencode.db, config) and the project dir. Only the plugin's
   * token store is exempt. Returns the findings (kind and place, never the value).
   */
  /** Every run's output and the scenario's dirs; `exclude` adds files the test itself wrote a secret into. */
  sweep(lab: E2eLab, options: { exclude?: readonly string[] } = {}) {
    const texts: Record<string, string> = {};
    this.runs.forEach((run, index) => {
      texts[`${this.name} run ${index + 1} stdout`] = run.stdout;
      texts[`${this.name} run ${index + 1} stderr`] = run.stderr;
    });
    return lab.secrets.sweep({
      texts,
      paths: [this.stateDir, this.projectDir],
      exclude: [this.dirs.tokenStore, ...(options.exclude ?? [])],
    });
  }
}

function runArgs(model: string, prompt: string) {
  return ['run', '--format', 'json', '--log-level', 'DEBUG', '--model', model, prompt];
}

/** A one-line description of a run for assertion messages (exit, time, the tail of stderr). */
export function describeRun(result: RunResult): string {
  const tail = result.stderr.trim().split('\n').slice(-6).join(' | ');
  return `exit=${result.code ?? result.signal} timedOut=${result.timedOut} ms=${result.ms} stderr: ${tail}`;
}

/** Resolve after `ms` (bounded waits only). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll `check` every `everyMs` (100) until it is truthy or `timeoutMs` passes. */
export async function waitUntil<T>(check: () => T | Promise<T>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Timings of the scenarios of a file, printed in afterAll (speed is reported, not asserted). */
export class Timings {
  private readonly rows: Array<[string, number]> = [];

  record(name: string, ms: number) {
    this.rows.push([name, Math.round(ms)]);
  }

  async time<T>(name: string, body: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await body();
    } finally {
      this.record(name, performance.now() - started);
    }
  }

  print(file: string) {
    if (!this.rows.length) return;
    const lines = this.rows.map(([name, ms]) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${name}`);
    process.stdout.write(`[e2e timings] ${file}\n${lines.join('\n')}\n`);
  }
}
