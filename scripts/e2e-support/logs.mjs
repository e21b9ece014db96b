// @ts-check
/**
 * OpenCode's own log files (`$XDG_DATA_HOME/opencode/log/*.log`; 1.18.33 appends every run to `opencode.log`,
 * each line tagged `run=<id>`) and the plugin's lines in them.
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { stateDirs } from './env.mjs';

/**
 * Log files of a state dir, oldest first.
 * @param {string} stateDir
 * @returns {string[]}
 */
export function logFiles(stateDir) {
  const dir = stateDirs(stateDir).logDir;
  let names;
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.log'));
  } catch {
    return [];
  }
  return names
    .map((name) => path.join(dir, name))
    .map((file) => ({ file, mtime: statSync(file).mtimeMs }))
    .sort((a, b) => a.mtime - b.mtime || a.file.localeCompare(b.file))
    .map(({ file }) => file);
}

/**
 * Every log file of a state dir, concatenated.
 * @param {string} stateDir
 * @returns {string}
 */
export function readLogs(stateDir) {
  return logFiles(stateDir)
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
}

/**
 * Sizes of the log files now. OpenCode appends every run to the same file (`opencode.log`), so what a later
 * run wrote is what lies past these offsets.
 * @param {string} stateDir
 * @returns {Map<string, number>}
 */
export function logSnapshot(stateDir) {
  return new Map(logFiles(stateDir).map((file) => [file, statSync(file).size]));
}

/**
 * Log text written since a snapshot: the tail of files that grew, and whole new files.
 * @param {string} stateDir
 * @param {Map<string, number>} before
 * @returns {string}
 */
export function logsSince(stateDir, before) {
  return logFiles(stateDir)
    .map((file) => readFileSync(file).subarray(before.get(file) ?? 0).toString('utf8'))
    .join('\n');
}

/**
 * Log lines whose text matches.
 * @param {string} text
 * @param {RegExp | string} pattern
 * @returns {string[]}
 */
export function grepLines(text, pattern) {
  return text.split('\n').filter((line) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line)));
}
