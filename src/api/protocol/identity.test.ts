import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identityFromAuthorization, isPlausibleRegion } from './identity.js';

describe('identityFromAuthorization', () => {
  it('reads access key and region from a SigV4 credential scope', () => {
    const h =
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/eu-west-3/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc';
    assert.deepEqual(identityFromAuthorization(h), { accessKeyId: 'AKIDEXAMPLE', region: 'eu-west-3' });
  });
  it('gives nothing for a missing or foreign header', () => {
    assert.deepEqual(identityFromAuthorization(undefined), {});
    assert.deepEqual(identityFromAuthorization('Basic dXNlcjpwYXNz'), {});
  });
  it('rejects implausible region names', () => {
    assert.equal(isPlausibleRegion('us-east-1'), true);
    assert.equal(isPlausibleRegion('../../etc'), false);
    assert.equal(isPlausibleRegion(''), false);
  });
});
