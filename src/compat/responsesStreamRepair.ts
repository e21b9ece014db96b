/**
 * Some gateways (Envoy AI Gateway among them) stream the OpenAI Responses API (`/responses`, server-sent events)
 * without the `output_index` and `content_index` fields. The AI SDK then cannot place the text, and OpenCode
 * fails with "text part … not found". This wraps a provider's `fetch` (for `responseApi: true`) and fills the
 * missing indices in the stream: each output item gets the index of its arrival order, content events get
 * content index 0. Present indices are never changed, so a complete stream passes through as it came.
 */

type Fetch = typeof globalThis.fetch;

const CONTENT_EVENT = /content_part|output_text|reasoning_text/;
const FRAME_END = /\r?\n\r?\n/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Per-stream memory: output index of each item id, in order of arrival. */
class IndexState {
  private readonly indexOf = new Map<string, number>();

  repair(event: Record<string, unknown>): boolean {
    let changed = false;
    const item = isObject(event.item) ? event.item : undefined;
    const itemId = typeof event.item_id === 'string' ? event.item_id : typeof item?.id === 'string' ? item.id : undefined;
    if (event.type === 'response.output_item.added' && itemId !== undefined && !this.indexOf.has(itemId)) {
      this.indexOf.set(itemId, typeof event.output_index === 'number' ? event.output_index : this.indexOf.size);
    }
    if (event.output_index === undefined && itemId !== undefined && this.indexOf.has(itemId)) {
      event.output_index = this.indexOf.get(itemId);
      changed = true;
    }
    if (typeof event.type === 'string' && CONTENT_EVENT.test(event.type) && event.content_index === undefined) {
      event.content_index = 0;
      changed = true;
    }
    return changed;
  }
}

/** One SSE frame (without its blank-line terminator), repaired, or unchanged when it is not a JSON event. */
function repairFrame(frame: string, state: IndexState): string {
  const lines = frame.split(/\r?\n/);
  const data = lines.filter((line) => line.startsWith('data:'));
  const others = lines.filter((line) => !line.startsWith('data:'));
  if (data.length !== 1 || !others.every((line) => line.startsWith('event:'))) return frame;
  const payload = data[0]!.slice(5).trimStart();
  let event: unknown;
  try {
    event = JSON.parse(payload);
  } catch {
    return frame;
  }
  if (!isObject(event) || !state.repair(event)) return frame;
  return [...others, `data: ${JSON.stringify(event)}`].join('\n');
}

/** A byte stream transform that repairs frame by frame, across any chunk boundaries. */
export function responsesRepairStream(): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  const state = new IndexState();
  let buffer = '';
  const drain = (controller: TransformStreamDefaultController<Uint8Array>) => {
    for (let match = FRAME_END.exec(buffer); match; match = FRAME_END.exec(buffer)) {
      const frame = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      const repaired = repairFrame(frame, state);
      controller.enqueue(encoder.encode(repaired === frame ? frame + match[0] : `${repaired}\n\n`));
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      buffer += decoder.decode(chunk, { stream: true });
      drain(controller);
    },
    flush(controller) {
      buffer += decoder.decode();
      drain(controller);
      if (buffer) controller.enqueue(encoder.encode(repairFrame(buffer, state)));
    },
  });
}

function urlOf(input: Parameters<Fetch>[0]): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

/** `fetch` for a Responses-API provider: event streams of `/responses` are repaired, anything else passes. */
export function withResponsesStreamRepair(delegate: Fetch): Fetch {
  const repaired = async (input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => {
    const response = await delegate(input, init);
    const type = response.headers.get('content-type')?.toLowerCase() ?? '';
    if (!response.body || !type.includes('text/event-stream') || !new URL(urlOf(input)).pathname.includes('/responses')) {
      return response;
    }
    return new Response(response.body.pipeThrough(responsesRepairStream()), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return repaired as Fetch;
}
