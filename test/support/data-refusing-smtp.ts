import { createServer, type Server, type Socket } from 'node:net';

/**
 * Just enough SMTP, over node:net, to refuse the DATA command itself: smtp-server always
 * answers DATA with 354 once a recipient was accepted, so it cannot fail this stage.
 * It accepts the sender and every recipient, and records each line a client sends.
 */
export class DataRefusingSmtp {
  /** Every line that arrived, in order: with DATA refused, none of them can be message content. */
  readonly lines: string[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #server: Server;

  constructor(private readonly reply: { code: number; message: string }) {
    this.#server = createServer((socket) => this.#converse(socket));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
  }

  #converse(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    socket.write('220 refuser ESMTP\r\n');
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      const lines = pending.split('\r\n');
      pending = lines.pop()!;
      for (const line of lines) {
        this.lines.push(line);
        socket.write(`${this.#answer(line)}\r\n`);
        if (/^QUIT/i.test(line)) socket.end();
      }
    });
  }

  #answer(line: string): string {
    const verb = line.split(/[\s:]/, 1)[0]!.toUpperCase();
    if (verb === 'EHLO') return '250-refuser\r\n250-PIPELINING\r\n250 8BITMIME';
    if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') return '250 OK';
    if (verb === 'DATA') return `${this.reply.code} ${this.reply.message}`;
    if (verb === 'QUIT') return '221 Bye';
    return '500 Unrecognized command';
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
