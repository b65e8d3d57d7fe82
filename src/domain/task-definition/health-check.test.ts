import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeHealthCheck } from './health-check.js';
import { assertEcsError } from './test-support.js';

describe('normalizeHealthCheck', () => {
  it('fills in the defaults', () => {
    assert.deepEqual(normalizeHealthCheck('web', { command: ['CMD-SHELL', 'curl -f localhost || exit 1'] }), {
      command: ['CMD-SHELL', 'curl -f localhost || exit 1'],
      interval: 30,
      timeout: 5,
      retries: 3,
      startPeriod: 0,
    });
  });
  it('keeps given values', () => {
    const hc = { command: ['CMD', 'true'], interval: 5, timeout: 60, retries: 10, startPeriod: 300 };
    assert.deepEqual(normalizeHealthCheck('web', hc), hc);
  });
  const cases: [string, number, RegExp][] = [
    ['interval', 4, /interval must be between 5 and 300 seconds; got 4/],
    ['interval', 301, /interval must be between 5 and 300/],
    ['timeout', 1, /timeout must be between 2 and 60 seconds; got 1/],
    ['timeout', 61, /timeout must be between 2 and 60/],
    ['retries', 0, /retries must be between 1 and 10 retries; got 0/],
    ['retries', 11, /retries must be between 1 and 10/],
    ['startPeriod', -1, /startPeriod must be between 0 and 300/],
    ['startPeriod', 301, /startPeriod must be between 0 and 300/],
  ];
  for (const [member, value, message] of cases) {
    it(`rejects ${member} ${value}, naming the container`, () => {
      assertEcsError(
        () => normalizeHealthCheck('web', { command: ['CMD', 'true'], [member]: value }),
        'ClientException',
        new RegExp(`container 'web': ${message.source}`),
      );
    });
  }
  it('requires the CMD or CMD-SHELL form with a program', () => {
    assertEcsError(
      () => normalizeHealthCheck('web', { command: [] }),
      'ClientException',
      /must start with 'CMD' or 'CMD-SHELL'/,
    );
    assertEcsError(
      () => normalizeHealthCheck('web', { command: ['curl', 'x'] }),
      'ClientException',
      /'CMD' or 'CMD-SHELL'/,
    );
    assertEcsError(
      () => normalizeHealthCheck('web', { command: ['CMD'] }),
      'ClientException',
      /no program to run/,
    );
  });
});
