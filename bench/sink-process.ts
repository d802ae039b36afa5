import { CountingSink } from './sink.js';

// The sink runs in a process of its own: its CPU and memory stay out of the figures
// of the process under measurement, as a real relay's would.
export type SinkRequest =
  | { id: number; op: 'reset'; suffix: string }
  | { id: number; op: 'stats' }
  | { id: number; op: 'arrivalsAfter'; at: number }
  | { id: number; op: 'waitFor'; count: number }
  | { id: number; op: 'close' };

const sink = new CountingSink();
const port = await sink.listen();
process.send!({ ready: port });

process.on('message', (request: SinkRequest) => {
  const reply = (result: unknown) => process.send!({ id: request.id, result });
  switch (request.op) {
    case 'reset':
      return reply(sink.reset(request.suffix));
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
