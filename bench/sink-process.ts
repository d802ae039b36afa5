import { CountingSink, monotonicMs, type TimedResponse } from './sink.js';

// The sink runs in a process of its own: its CPU and memory stay out of the figures
// of the process under measurement, as a real relay's would. It is also where the halt
// request comes from, like a person's browser: its timing is not held up by the server
// process's own event loop, and it shares the clock the arrivals are stamped with.
export type SinkRequest =
  | { id: number; op: 'post'; url: string; headers: Record<string, string>; body: string }
  | { id: number; op: 'reset'; suffix: string }
  | { id: number; op: 'stats' }
  | { id: number; op: 'arrivalsAfter'; at: number }
  | { id: number; op: 'waitFor'; count: number }
  | { id: number; op: 'close' };

async function timedPost(url: string, headers: Record<string, string>, body: string): Promise<TimedResponse> {
  // Node loads its fetch client on the first call (about 90 ms here) and then keeps the
  // connection open; a browser showing the campaign's page has both already. Warm them first.
  await (await fetch(new URL('/healthz', url))).text();
  const requestedAt = monotonicMs();
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, text, requestedAt, returnedAt: monotonicMs() };
}

// The folder to write each message to, if any, comes as the first argument.
const sink = new CountingSink(process.argv[2] || undefined);
const port = await sink.listen();
process.send!({ ready: port });

process.on('message', (request: SinkRequest) => {
  const reply = (result: unknown) => process.send!({ id: request.id, result });
  switch (request.op) {
    case 'reset':
      return reply(sink.reset(request.suffix));
    case 'post':
      return void timedPost(request.url, request.headers, request.body).then(reply);
    case 'stats':
      return reply(sink.stats());
    case 'arrivalsAfter':
      return reply(sink.arrivalsAfter(request.at));
    case 'waitFor':
      return void sink.waitFor(request.count).then(() => reply(null));
    case 'close':
      return void sink.close().then(() => {
        reply(null);
        process.disconnect();
      });
  }
});
