// Byte-level decoders for Docker's streaming endpoints: newline-delimited JSON (events, pull
// progress) and the multiplexed stdout/stderr framing of container logs, split into lines.
// Pure and incremental (feed chunks as they arrive), so they are unit-tested without an engine.
import type { LogLine } from './container-runtime.js';
import { parseDockerTime } from './docker-mapping.js';

/** Splits a byte stream into JSON documents, one per line; a chunk may end mid-line. */
export class JsonLineDecoder {
  private pending = '';

  /** Returns the complete documents in `chunk`; lines that are not JSON are returned as errors. */
  push(chunk: Buffer | string): unknown[] {
    this.pending += chunk.toString();
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '').map(parseLine);
  }

  /** The trailing document when the stream ended without a newline. */
  end(): unknown[] {
    const rest = this.pending.trim();
    this.pending = '';
    return rest ? [parseLine(rest)] : [];
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return new Error(`unparseable line from Docker: ${line.slice(0, 200)}`);
  }
}

type StreamName = LogLine['stream'];

/**
 * Turns Docker log bytes into lines. Without a TTY each log entry comes in a frame with an 8-byte
 * header (byte 0: 1 stdout, 2 stderr; bytes 4–7: big-endian length); with a TTY the bytes are
 * raw and all count as stdout. With `timestamps` each entry starts with an RFC 3339 time and a
 * space; an entry without a trailing newline is a partial line (Docker splits lines > 16 KiB) and
 * is joined to the next entry of the same stream, keeping the first time.
 */
export class DockerLogDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private rawText = '';
  private readonly partial: Record<StreamName, LogLine | undefined> = {
    stdout: undefined,
    stderr: undefined,
  };

  constructor(private readonly o: { tty: boolean; timestamps: boolean }) {}

  push(chunk: Buffer): LogLine[] {
    const out: LogLine[] = [];
    if (this.o.tty) {
      // Raw bytes: chunk boundaries are arbitrary, so only complete lines are parsed.
      const lines = (this.rawText + chunk.toString('utf8')).split('\n');
      this.rawText = lines.pop() ?? '';
      for (const l of lines) out.push(this.parse('stdout', stripCr(l)));
      return out;
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const kind = this.buf[0];
      const payload = this.buf.subarray(8, 8 + size).toString('utf8');
      this.buf = this.buf.subarray(8 + size);
      // 0 is stdin (never sent for logs); anything but stderr counts as stdout.
      this.addEntries(kind === 2 ? 'stderr' : 'stdout', payload, out);
    }
    return out;
  }

  /** Lines still waiting for their newline when the stream ended. */
  end(): LogLine[] {
    const out: LogLine[] = [];
    if (this.rawText !== '') out.push(this.parse('stdout', this.rawText));
    this.rawText = '';
    for (const s of ['stdout', 'stderr'] as const) {
      const p = this.partial[s];
      if (p) out.push(p);
      this.partial[s] = undefined;
    }
    return out;
  }

  private addEntries(stream: StreamName, payload: string, out: LogLine[]): void {
    const segments = payload.split('\n');
    const last = segments.pop() ?? '';
    for (const seg of segments) out.push(this.join(stream, this.parse(stream, stripCr(seg))));
    if (last !== '') this.partial[stream] = this.join(stream, this.parse(stream, last));
  }

  private join(stream: StreamName, line: LogLine): LogLine {
    const p = this.partial[stream];
    if (!p) return line;
    this.partial[stream] = undefined;
    return { ...p, text: p.text + line.text };
  }

  private parse(stream: StreamName, raw: string): LogLine {
    if (!this.o.timestamps) return { stream, text: raw };
    const space = raw.indexOf(' ');
    const time = space > 0 ? parseDockerTime(raw.slice(0, space)) : undefined;
    if (time === undefined) return { stream, text: raw };
    return { stream, text: raw.slice(space + 1), time };
  }
}

const stripCr = (s: string): string => (s.endsWith('\r') ? s.slice(0, -1) : s);

/** Docker's `since` query form: seconds with a nanosecond fraction. */
export function toDockerSince(epochMs: number): string {
  // Whole milliseconds and the sub-millisecond rest separately: epoch nanoseconds overflow a double.
  const whole = Math.floor(epochMs);
  const subMsNs = Math.min(999_999, Math.round((epochMs - whole) * 1_000_000));
  const ns = BigInt(whole) * 1_000_000n + BigInt(subMsNs);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${ns / 1_000_000_000n}.${frac}`;
}
