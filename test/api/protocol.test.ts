// The wire protocol against a real server process: bad input of every kind gets the ECS error
// shape with a clear message, never a 500, never a crash, and leaves stored state unchanged.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ECS_TARGET, rawCall, startBerthServer, type BerthProcess } from '../support/berth-process.js';

let berth: BerthProcess;
const op = (name: string): string => `${ECS_TARGET}.${name}`;

before(async () => {
  berth = await startBerthServer();
  const r = await rawCall(berth.url, op('CreateCluster'), JSON.stringify({ clusterName: 'keep' }));
  assert.equal(r.status, 200);
});
after(async () => {
  await berth.stop();
});

async function expectError(
  target: string | undefined,
  body: string,
  type: string | RegExp,
  message: RegExp,
  headers: Record<string, string> = {},
): Promise<void> {
  const r = await rawCall(berth.url, target, body, headers);
  assert.equal(r.status, 400, `status for ${body.slice(0, 60)}: ${JSON.stringify(r.json)}`);
  if (typeof type === 'string') assert.equal(r.json.__type, type, JSON.stringify(r.json));
  else assert.match(String(r.json.__type), type);
  assert.match(String(r.json.message), message);
  assert.ok(r.headers.get('x-amzn-requestid'), 'x-amzn-RequestId header');
}

describe('JSON 1.1 protocol', () => {
  it('answers with x-amzn-RequestId and the JSON 1.1 content type', async () => {
    const r = await rawCall(berth.url, op('ListClusters'), '{}');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(r.headers.get('content-type'), 'application/x-amz-json-1.1');
    assert.ok(Array.isArray(r.json.clusterArns));
  });

  it('treats an empty body as {}', async () => {
    const r = await rawCall(berth.url, op('ListClusters'), '');
    assert.equal(r.status, 200);
  });

  it('rejects broken JSON with SerializationException', async () => {
    await expectError(op('CreateCluster'), '{"clusterName": "x"', 'SerializationException', /not valid JSON/);
  });

  it('rejects a body that is not an object', async () => {
    await expectError(op('CreateCluster'), '[1,2]', 'SerializationException', /object/i);
  });

  it('rejects an unknown target with UnknownOperationException', async () => {
    await expectError(op('LaunchRockets'), '{}', 'UnknownOperationException', /LaunchRockets/);
    await expectError(
      'SomeOtherService.ListClusters',
      '{}',
      'UnknownOperationException',
      /Unknown operation/,
    );
    await expectError(undefined, '{}', 'UnknownOperationException', /X-Amz-Target/);
  });

  it('rejects wrong types, naming the member', async () => {
    await expectError(op('CreateCluster'), '{"clusterName": 5}', 'InvalidParameterException', /clusterName/);
    await expectError(
      op('RegisterTaskDefinition'),
      JSON.stringify({ family: 'f', containerDefinitions: [{ name: 'a', image: 'b', memory: 'lots' }] }),
      'InvalidParameterException',
      /containerDefinitions\[0\]\.memory/,
    );
  });

  it('rejects missing required members, naming them', async () => {
    await expectError(
      op('RegisterTaskDefinition'),
      '{"family":"f"}',
      'InvalidParameterException',
      /containerDefinitions/,
    );
  });

  it('rejects unknown members', async () => {
    await expectError(op('ListClusters'), '{"colour":"blue"}', 'InvalidParameterException', /colour/);
  });

  it('rejects enum values outside the model', async () => {
    await expectError(
      op('ListTaskDefinitions'),
      '{"status":"SLEEPING"}',
      'InvalidParameterException',
      /status/,
    );
  });

  it('rejects names with illegal characters', async () => {
    await expectError(
      op('CreateCluster'),
      '{"clusterName":"bad name!"}',
      'InvalidParameterException',
      /name/i,
    );
    // ECS answers a bad family as ClientException or InvalidParameterException depending on the rule.
    await expectError(
      op('RegisterTaskDefinition'),
      JSON.stringify({ family: 'no/slash', containerDefinitions: [{ name: 'a', image: 'b', memory: 64 }] }),
      /^(ClientException|InvalidParameterException)$/,
      /family/i,
    );
  });

  it('enforces limits exceeded by one', async () => {
    const tags = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    await expectError(
      op('CreateCluster'),
      JSON.stringify({ clusterName: 'tags', tags }),
      'InvalidParameterException',
      /tags/,
    );
    const containers = Array.from({ length: 11 }, (_, i) => ({
      name: `c${i}`,
      image: 'busybox',
      memory: 32,
    }));
    const r = await rawCall(
      berth.url,
      op('RegisterTaskDefinition'),
      JSON.stringify({ family: 'eleven', containerDefinitions: containers }),
    );
    assert.equal(r.status, 400);
    assert.match(String(r.json.message), /10/);
    await expectError(op('ListClusters'), '{"maxResults":101}', 'InvalidParameterException', /maxResults/);
    const clusters = Array.from({ length: 101 }, (_, i) => `c${i}`);
    const d = await rawCall(berth.url, op('DescribeClusters'), JSON.stringify({ clusters }));
    assert.equal(d.status, 400);
  });

  it('rejects an oversized body with the ECS error shape', async () => {
    const big = JSON.stringify({ clusterName: 'x'.repeat(2 * 1024 * 1024) });
    const r = await rawCall(berth.url, op('CreateCluster'), big);
    assert.equal(r.status, 400);
    assert.equal(r.json.__type, 'ClientException');
    assert.match(String(r.json.message), /larger than/);
  });

  it('answers an unknown path in the error shape', async () => {
    const r = await fetch(`${berth.url}/nowhere`);
    assert.equal(r.status, 404);
    const j = (await r.json()) as Record<string, unknown>;
    assert.equal(j.__type, 'UnknownOperationException');
  });

  it('keeps serving, with stored state unchanged, after all of the above', async () => {
    const r = await rawCall(
      berth.url,
      op('DescribeClusters'),
      JSON.stringify({ clusters: ['keep', 'tags', 'x'] }),
    );
    assert.equal(r.status, 200);
    const clusters = r.json.clusters as { clusterName: string; status: string }[];
    assert.deepEqual(
      clusters.map((c) => c.clusterName),
      ['keep'],
    );
    const failures = r.json.failures as { reason: string }[];
    assert.deepEqual(
      failures.map((f) => f.reason),
      ['MISSING', 'MISSING'],
    );
    const l = await rawCall(berth.url, op('ListTaskDefinitions'), '{}');
    assert.deepEqual(l.json.taskDefinitionArns, []);
  });

  it('takes the region from the SigV4 credential scope', async () => {
    const auth =
      'AWS4-HMAC-SHA256 Credential=AKID/20261121/eu-west-3/ecs/aws4_request, SignedHeaders=host, Signature=0';
    const r = await rawCall(berth.url, op('CreateCluster'), '{"clusterName":"paris"}', {
      authorization: auth,
    });
    assert.equal(r.status, 200);
    const cluster = r.json.cluster as { clusterArn: string };
    assert.equal(cluster.clusterArn, 'arn:aws:ecs:eu-west-3:123456789012:cluster/paris');
    // The other region does not see it.
    const l = await rawCall(berth.url, op('ListClusters'), '{}');
    assert.ok(!(l.json.clusterArns as string[]).some((a) => a.endsWith('/paris')));
  });

  it('serves /health and /metrics', async () => {
    const h = await fetch(`${berth.url}/health`);
    assert.equal(h.status, 200);
    const m = await (await fetch(`${berth.url}/metrics`)).text();
    assert.match(m, /berth_api_requests_total\{operation="CreateCluster",status="200"\}/);
  });
});
