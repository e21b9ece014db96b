/** The Node host's request log: JSON lines, written once per event-loop turn. */
import { describe, expect, it } from 'vitest';
import { bufferedStdoutLogger } from '../../src/gateway/log.js';

describe('bufferedStdoutLogger', () => {
  it('writes the entries of one turn as one write of JSON lines, each with its time first', async () => {
    const writes: string[] = [];
    const log = bufferedStdoutLogger({ write: (chunk: string) => writes.push(chunk) });
    log({ msg: 'request', outcome: 'ok', status: 200, method: 'POST', path: '/v1/x', repository: 'o/"r"' });
    log({ msg: 'other', n: 1 });
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    const lines = writes[0]!.split('\n');
    expect(lines.at(-1)).toBe('');
    const [first, second] = lines.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(first!)[0]).toBe('t');
    expect(Number.isNaN(Date.parse(String(first!.t)))).toBe(false);
    expect(first).toMatchObject({ msg: 'request', outcome: 'ok', status: 200, path: '/v1/x', repository: 'o/"r"' });
    expect(second).toMatchObject({ msg: 'other', n: 1 });
  });
});
