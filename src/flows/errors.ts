/** Kept for the flow runners' callers: the one conversion lives in src/errors.ts. */
export { fromErrorInfo as tokenErrorFromInfo } from '../errors.js';
