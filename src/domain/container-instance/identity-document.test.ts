import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpuArchitectureAttribute, parseInstanceIdentityDocument } from './identity-document.js';

describe('parseInstanceIdentityDocument', () => {
  it('reads the members Berth uses and ignores the rest', () => {
    const doc = parseInstanceIdentityDocument(
      JSON.stringify({
        instanceId: 'i-0123456789abcdef0',
        availabilityZone: 'us-east-1b',
        instanceType: 'm5.large',
        region: 'us-east-1',
        imageId: 'ami-0abcdef',
        architecture: 'x86_64',
        pendingTime: '2026-01-01T00:00:00Z',
        devpayProductCodes: null,
      }),
    );
    assert.deepEqual(doc, {
      instanceId: 'i-0123456789abcdef0',
      availabilityZone: 'us-east-1b',
      instanceType: 'm5.large',
      region: 'us-east-1',
      imageId: 'ami-0abcdef',
      architecture: 'x86_64',
    });
  });
  it('rejects text that is not a JSON object', () => {
    assert.throws(
      () => parseInstanceIdentityDocument('{nope'),
      /instanceIdentityDocument must be a JSON object/,
    );
    assert.throws(() => parseInstanceIdentityDocument('[1]'), /must be a JSON object/);
    assert.throws(() => parseInstanceIdentityDocument('null'), /must be a JSON object/);
  });
  it('rejects known members of the wrong type, naming them', () => {
    assert.throws(
      () => parseInstanceIdentityDocument('{"instanceId": 7}'),
      (e: Error) =>
        e.name === 'InvalidParameterException' && /instanceIdentityDocument\.instanceId/.test(e.message),
    );
  });
  it('maps EC2 architecture names to ECS ones', () => {
    assert.equal(cpuArchitectureAttribute('aarch64'), 'arm64');
    assert.equal(cpuArchitectureAttribute('arm64'), 'arm64');
    assert.equal(cpuArchitectureAttribute('x86_64'), 'x86_64');
  });
});
