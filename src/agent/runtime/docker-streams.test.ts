// Unit tests for the incremental decoders of Docker's streaming endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerLogDecoder, JsonLineDecoder, toDockerSince } from './docker-streams.js';

function frame(kind: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = kind;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

test('JsonLineDecoder yields documents across chunk boundaries and flags garbage', () => {
  const d = new JsonLineDecoder();
  assert.deepEqual(d.push('{"a":1}\n{"b"'), [{ a: 1 }]);
  assert.deepEqual(d.push(':2}\n\n'), [{ b: 2 }]);
  const bad = d.push('not json\n');
  assert.equal(bad.length, 1);
  assert.ok(bad[0] instanceof Error);
  assert.deepEqual(d.push('{"c":3}'), []);
  assert.deepEqual(d.end(), [{ c: 3 }]);
  assert.deepEqual(d.end(), []);
});

test('DockerLogDecoder demultiplexes frames split anywhere, parses timestamps, keeps streams apart', () => {
  const d = new DockerLogDecoder({ tty: false, timestamps: true });
  const bytes = Buffer.concat([
    frame(1, '2026-01-01T00:00:00.000000001Z hello\n'),
    frame(2, '2026-01-01T00:00:01Z oops\n'),
    frame(1, '2026-01-01T00:00:02Z a\n2026-01-01T00:00:03Z b\r\n'),
  ]);
  const out = [];
  // Feed one byte at a time: headers and payloads split at every possible offset.
  for (let i = 0; i < bytes.length; i++) out.push(...d.push(bytes.subarray(i, i + 1)));
  out.push(...d.end());
  assert.deepEqual(out, [
    { stream: 'stdout', text: 'hello', time: Date.UTC(2026, 0, 1) },
    { stream: 'stderr', text: 'oops', time: Date.UTC(2026, 0, 1, 0, 0, 1) },
    { stream: 'stdout', text: 'a', time: Date.UTC(2026, 0, 1, 0, 0, 2) },
    { stream: 'stdout', text: 'b', time: Date.UTC(2026, 0, 1, 0, 0, 3) },
  ]);
});

test('DockerLogDecoder joins partial entries (long lines) and flushes an unterminated last line', () => {
  const d = new DockerLogDecoder({ tty: false, timestamps: true });
  const out = [
    ...d.push(frame(1, '2026-01-01T00:00:00Z part-one ')),
    ...d.push(frame(2, '2026-01-01T00:00:00Z err\n')),
    ...d.push(frame(1, '2026-01-01T00:00:05Z part-two\n')),
    ...d.push(frame(1, '2026-01-01T00:00:06Z no newline')),
  ];
  assert.deepEqual(out, [
    { stream: 'stderr', text: 'err', time: Date.UTC(2026, 0, 1) },
    { stream: 'stdout', text: 'part-one part-two', time: Date.UTC(2026, 0, 1) },
  ]);
  assert.deepEqual(d.end(), [{ stream: 'stdout', text: 'no newline', time: Date.UTC(2026, 0, 1, 0, 0, 6) }]);
});

test('DockerLogDecoder with a TTY reads raw bytes as stdout', () => {
  const d = new DockerLogDecoder({ tty: true, timestamps: false });
  assert.deepEqual(d.push(Buffer.from('one\r\ntw')), [{ stream: 'stdout', text: 'one' }]);
  assert.deepEqual(d.push(Buffer.from('o\n')), [{ stream: 'stdout', text: 'two' }]);
  assert.deepEqual(d.end(), []);
});

test('toDockerSince renders seconds with nanoseconds', () => {
  assert.equal(toDockerSince(1700000000123), '1700000000.123000000');
  assert.equal(toDockerSince(1700000000123.5), '1700000000.123500000');
  assert.equal(toDockerSince(5), '0.005000000');
});
