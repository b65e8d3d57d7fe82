import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeTaskCpu, normalizeTaskMemory, parseTaskCpu, parseTaskMemory } from './units.js';
import { assertEcsError } from './test-support.js';

describe('parseTaskCpu', () => {
  it('reads plain CPU units', () => {
    assert.equal(parseTaskCpu('1024'), 1024);
    assert.equal(parseTaskCpu(' 256 '), 256);
  });
  it('converts vCPU forms in any case and spacing', () => {
    assert.equal(parseTaskCpu('1 vCPU'), 1024);
    assert.equal(parseTaskCpu('0.25 vcpu'), 256);
    assert.equal(parseTaskCpu('2vcpu'), 2048);
    assert.equal(parseTaskCpu('.5 VCPU'), 512);
    assert.equal(parseTaskCpu('4 vCPUs'), 4096);
  });
  it('rejects vCPU values that are not whole CPU units', () => {
    assertEcsError(() => parseTaskCpu('0.3 vCPU'), 'ClientException', /'cpu'.*0\.3 vCPU/);
  });
  it('rejects unreadable strings, naming the value', () => {
    assertEcsError(() => parseTaskCpu('lots'), 'ClientException', /Invalid 'cpu' setting for task: 'lots'/);
    assertEcsError(() => parseTaskCpu(''), 'ClientException', /'cpu'/);
    assertEcsError(() => parseTaskCpu('-1024'), 'ClientException', /'cpu'/);
    assertEcsError(() => parseTaskCpu('1 GB'), 'ClientException', /'cpu'/);
  });
  it('enforces the 0.125-192 vCPU range', () => {
    assert.equal(parseTaskCpu('128'), 128);
    assert.equal(parseTaskCpu('192 vCPU'), 196608);
    assertEcsError(() => parseTaskCpu('127'), 'ClientException', /128-196608/);
    assertEcsError(() => parseTaskCpu('193 vcpu'), 'ClientException', /outside the supported range/);
  });
});

describe('parseTaskMemory', () => {
  it('reads plain MiB', () => {
    assert.equal(parseTaskMemory('512'), 512);
  });
  it('converts GB forms in any case and spacing', () => {
    assert.equal(parseTaskMemory('2GB'), 2048);
    assert.equal(parseTaskMemory('2 gb'), 2048);
    assert.equal(parseTaskMemory('0.5 GB'), 512);
    assert.equal(parseTaskMemory('1GiB'), 1024);
  });
  it('accepts an explicit MiB suffix', () => {
    assert.equal(parseTaskMemory('300 MiB'), 300);
    assert.equal(parseTaskMemory('300mb'), 300);
  });
  it('rejects fractions of a MiB and unreadable strings', () => {
    assertEcsError(() => parseTaskMemory('0.0001GB'), 'ClientException', /'memory'.*0\.0001GB/);
    assertEcsError(
      () => parseTaskMemory('big'),
      'ClientException',
      /Invalid 'memory' setting for task: 'big'/,
    );
    assertEcsError(() => parseTaskMemory('1.5 MiB'), 'ClientException', /'memory'/);
  });
  it('rejects memory below the 6 MiB minimum', () => {
    assertEcsError(() => parseTaskMemory('5'), 'ClientException', /minimum of 6 MiB/);
    assert.equal(parseTaskMemory('6'), 6);
  });
});

describe('normalize', () => {
  it('stores unit strings', () => {
    assert.equal(normalizeTaskCpu('1 vCPU'), '1024');
    assert.equal(normalizeTaskMemory('2GB'), '2048');
    assert.equal(normalizeTaskMemory('0512'), '512');
  });
});
