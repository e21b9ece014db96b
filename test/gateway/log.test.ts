/** The Node host's request log: JSON lines, written together rather than once per request. */
import { describe, expect, it } from 'vitest';
import { bufferedStdoutLogger } from '../../src/gateway/log.js';

const parse = (chunk: string) => {
  const lines = chunk.split('\n');
  expect(lines.at(-1)).toBe('');
  return lines.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>);
};

describe('bufferedStdoutLogger', () => {
  it('writes the entries of a short while as one write of JSON lines, each with its time first', async () => {
    const writes: string[] = [];
    const log = bufferedStdoutLogger({ write: (chunk: string) => writes.push(chunk) }, { flushMs: 20 });
    log({ msg: 'request', outcome: 'ok', status: 200, method: 'POST', path: '/v1/x', repository: 'o/"r"' });
    await new Promise((resolve) => setImmediate(resolve));
    log({ msg: 'other', n: 1 });
    expect(writes).toEqual([]);
    for (let i = 0; i < 100 && writes.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(writes).toHaveLength(1);
    const [first, second] = parse(writes[0]!);
    expect(Object.keys(first!)[0]).toBe('t');
    expect(Number.isNaN(Date.parse(String(first!.t)))).toBe(false);
    expect(first).toMatchObject({ msg: 'request', outcome: 'ok', status: 200, path: '/v1/x', repository: 'o/"r"' });
    expect(second).toMatchObject({ msg: 'other', n: 1 });
  });

  it('writes at once when maxLines are pending, and flush() writes the rest', () => {
    const writes: string[] = [];
    const log = bufferedStdoutLogger({ write: (chunk: string) => writes.push(chunk) }, { flushMs: 60_000, maxLines: 3 });
    for (let n = 0; n < 4; n++) log({ msg: 'm', n });
    expect(writes).toHaveLength(1);
    expect(parse(writes[0]!).map((e) => e.n)).toEqual([0, 1, 2]);
    log.flush();
    expect(writes).toHaveLength(2);
    expect(parse(writes[1]!).map((e) => e.n)).toEqual([3]);
    log.flush();
    expect(writes).toHaveLength(2);
  });
});
