import http from 'node:http';

export interface SseEvent {
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a progress view, asserted on field by field
  data: any;
}

/** Reads an SSE stream to its end (bounded by `timeoutMs`), calling `onEvent` as events arrive. */
export function readEvents(
  url: string,
  onEvent: (event: SseEvent) => void,
  timeoutMs = 20_000,
): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const req = http.get(url, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE answered ${res.statusCode}`));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        buffer += text;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!name || data === undefined) continue;
          const event = { event: name, data: JSON.parse(data) };
          events.push(event);
          onEvent(event);
        }
      });
      res.on('end', () => resolve(events));
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error('SSE stream did not end in time')));
  });
}
