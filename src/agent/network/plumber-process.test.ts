// The plumber's child process: requests go over IPC and come back with the command's own error.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessPlumber } from './plumber-process.js';

describe('ProcessPlumber', { skip: process.platform !== 'linux' ? 'Linux only' : false }, () => {
  it("answers each request from its child process, with ip's reason when it fails, and fails all once closed", async () => {
    const p = new ProcessPlumber();
    try {
      // No such process (pid beyond pid_max) and no such bridge: nothing on the host changes.
      const req = {
        pid: 2 ** 30,
        bridge: 'br-nonexistent',
        ip: '198.18.250.9',
        prefixLength: 24,
        gateway: '198.18.250.1',
      };
      const results = await Promise.allSettled([p.attach(req), p.attach({ ...req, ip: '198.18.250.10' })]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.match(String((r as PromiseRejectedResult).reason), /PlumbingError: link add bv/);
      }
    } finally {
      p.close();
    }
    await assert.rejects(
      p.attach({ pid: 1, bridge: 'x', ip: '198.18.250.11', prefixLength: 24, gateway: '198.18.250.1' }),
      /closed/,
    );
  });
});
