/**
 * The Responses-API stream repair (docs/migration.md): an Envoy-like `/v1/responses` event stream without
 * `output_index` / `content_index`, served on 127.0.0.1, is repaired frame by frame whatever the chunking, and a
 * `responseApi: true` provider answers through the real OpenCode CLI.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responsesRepairStream, withResponsesStreamRepair } from '../../src/compat/responsesStreamRepair.js';
import { answerText, isolatedEnv, pluginUrl, runOpencode, startLab, writeProject } from '../../scripts/e2e-support/index.mjs';
import type { E2eLab } from '../../scripts/e2e-support/lab.mjs';
import { describeRun, tempRoot } from '../e2e/harness.js';

const TEXT = 'Hello from the responses stub';

/** What Envoy AI Gateway sends: the OpenAI Responses stream with the index fields left out. */
function envoyStream(model: string, crlf = false): string {
  const now = Math.floor(Date.now() / 1000);
  const base = { id: 'resp_1', object: 'response', created_at: now, model, output: [] as unknown[] };
  const message = { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: TEXT, annotations: [] }] };
  const usage = { input_tokens: 5, output_tokens: 6, total_tokens: 11, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } };
  const events: Array<Record<string, unknown>> = [
    { type: 'response.created', response: { ...base, status: 'in_progress' } },
    { type: 'response.in_progress', response: { ...base, status: 'in_progress' } },
    { type: 'response.output_item.added', item: { ...message, status: 'in_progress', content: [] } },
    { type: 'response.content_part.added', item_id: 'msg_1', part: { type: 'output_text', text: '', annotations: [] } },
    { type: 'response.output_text.delta', item_id: 'msg_1', delta: 'Hello from ' },
    { type: 'response.output_text.delta', item_id: 'msg_1', delta: 'the responses stub' },
    { type: 'response.output_text.done', item_id: 'msg_1', text: TEXT },
    { type: 'response.content_part.done', item_id: 'msg_1', part: message.content[0] },
    { type: 'response.output_item.done', item: message },
    { type: 'response.completed', response: { ...base, status: 'completed', output: [message], usage } },
  ];
  const nl = crlf ? '\r\n' : '\n';
  return events.map((event, i) => `event: ${String(event.type)}${nl}data: ${JSON.stringify({ ...event, sequence_number: i })}${nl}${nl}`).join('') + `: keep-alive${nl}${nl}`;
}

async function pipe(text: string, chunkSize: number): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += chunkSize) controller.enqueue(bytes.slice(i, i + chunkSize));
      controller.close();
    },
  });
  return new Response(source.pipeThrough(responsesRepairStream())).text();
}

const events = (text: string) =>
  text
    .split(/\r?\n\r?\n/)
    .map((frame) => frame.split(/\r?\n/).find((line) => line.startsWith('data:')))
    .filter((line): line is string => !!line)
    .map((line) => JSON.parse(line.slice(5)) as Record<string, unknown>);

describe('Responses-API stream repair', () => {
  it('adds output_index and content_index where they are missing, the same for any chunking', async () => {
    const raw = envoyStream('m');
    expect(events(raw).some((event) => 'output_index' in event)).toBe(false);
    const whole = await pipe(raw, raw.length);
    for (const size of [1, 7, 64]) expect(await pipe(raw, size)).toBe(whole);
    const repaired = events(whole);
    expect(repaired.filter((e) => e.type !== 'response.created' && e.type !== 'response.in_progress' && e.type !== 'response.completed').every((e) => e.output_index === 0)).toBe(true);
    expect(repaired.filter((e) => /content_part|output_text/.test(String(e.type))).every((e) => e.content_index === 0)).toBe(true);
    expect(whole).toContain(': keep-alive');
  });

  it('never changes indices that are there, and keeps CRLF frames it does not touch', async () => {
    const complete = (await pipe(envoyStream('m'), 50));
    expect(await pipe(complete, 13)).toBe(complete);
    const shifted = envoyStream('m').replace('"type":"response.output_item.added",', '"type":"response.output_item.added","output_index":3,');
    expect(events(await pipe(shifted, 9)).filter((e) => e.item_id === 'msg_1').every((e) => e.output_index === 3)).toBe(true);
    const crlf = await pipe(envoyStream('m', true), 5);
    expect(crlf).toContain('event: response.created\r\ndata:');
  });

  it('passes through what is not an event stream of /responses', async () => {
    const body = envoyStream('m');
    const fake: typeof fetch = async (input) =>
      new Response(body, { headers: { 'content-type': String(input).includes('json') ? 'application/json' : 'text/event-stream' } });
    const repairing = withResponsesStreamRepair(fake);
    expect(await (await repairing('http://127.0.0.1/v1/chat/completions')).text()).toBe(body);
    expect(await (await repairing('http://127.0.0.1/v1/responses?json')).text()).toBe(body);
    expect(await (await repairing('http://127.0.0.1/v1/responses')).text()).not.toBe(body);
  });
});

describe('a responseApi provider behind an Envoy-like gateway, through the real OpenCode CLI', () => {
  let lab: E2eLab;
  let gateway: http.Server;
  let baseURL: string;
  const seen: Array<{ path: string; authorized: boolean }> = [];
  const root = tempRoot('responses');

  beforeAll(async () => {
    lab = await startLab({ models: ['lab-model'] });
    gateway = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      seen.push({ path, authorized: /^Bearer \S+/.test(req.headers.authorization ?? '') && !req.headers.authorization!.includes('managed-by') });
      req.resume();
      if (path === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'envoy-model', object: 'model' }] }));
        return;
      }
      if (path === '/v1/responses') {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).end(envoyStream('envoy-model'));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    baseURL = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/v1`;
  });

  afterAll(async () => {
    gateway?.closeAllConnections();
    await new Promise<void>((resolve) => (gateway ? gateway.close(() => resolve()) : resolve()));
    await lab?.stop();
    root.remove();
  });

  it('answers with the streamed text', async () => {
    const env = isolatedEnv(root.dir('state'), { CORP_SECRET: lab.idp.clients.post.client_secret });
    writeProject(root.dir('project'), {
      plugin: [pluginUrl()],
      provider: {
        envoy: {
          name: 'Envoy AI',
          options: {
            baseURL,
            oauth2: {
              issuer: lab.idp.issuer,
              clientId: lab.idp.clients.post.client_id,
              clientSecret: '{env:CORP_SECRET}',
              authFlow: 'client_credentials',
              scopes: ['api:read'],
              responseApi: true,
            },
          },
        },
      },
    });
    const result = await runOpencode({ cwd: root.dir('project'), env, args: ['run', '--format', 'json', '--model', 'envoy/envoy-model', 'hello'], timeoutMs: 60_000 });
    expect(result.code, `${describeRun(result)} ${result.stdout.slice(-800)}`).toBe(0);
    expect(answerText(result.stdout)).toContain(TEXT);
    const responses = seen.filter((r) => r.path === '/v1/responses');
    expect(responses.length).toBeGreaterThanOrEqual(1);
    expect(responses.every((r) => r.authorized)).toBe(true);
  }, 120_000);
});
