import { Writable } from 'node:stream';

/** An in-memory log destination: every JSON line the app writes, parsed. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(line);
    done();
  }

  records(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Request log lines only (the ones that carry an endpoint). */
  requests(): Record<string, unknown>[] {
    return this.records().filter((r) => r.message === 'request completed' || r.message === 'request aborted');
  }
}
