import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { identityFromAuthorization } from '../api/protocol/identity.js';
import { EcsApiClient, EcsApiError, signedHeaders } from './ecs-api.js';

describe('signedHeaders', () => {
  it('carries a SigV4 credential scope with the region the control plane reads', () => {
    const h = signedHeaders({
      host: '127.0.0.1:7345',
      path: '/',
      target: 'AmazonEC2ContainerServiceV20141113.ListClusters',
      body: '{}',
      region: 'eu-west-3',
      now: Date.UTC(2026, 0, 2, 3, 4, 5),
    });
    assert.equal(h['x-amz-date'], '20260102T030405Z');
    assert.match(
      h.authorization!,
      /^AWS4-HMAC-SHA256 Credential=berth-agent\/20260102\/eu-west-3\/ecs\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    assert.deepEqual(identityFromAuthorization(h.authorization), {
      accessKeyId: 'berth-agent',
      region: 'eu-west-3',
    });
  });
  it('signs the body: another body gives another signature', () => {
    const base = { host: 'h', path: '/', target: 't', region: 'us-east-1', now: 0 };
    assert.notEqual(
      signedHeaders({ ...base, body: '{}' }).authorization,
      signedHeaders({ ...base, body: '{"a":1}' }).authorization,
    );
  });
});

describe('EcsApiClient', () => {
  let server: Server;
  let url = '';
  const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '{}' };

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('posts JSON 1.1 with the operation target and returns the answer', async () => {
    answer = { status: 200, body: JSON.stringify({ cluster: { clusterName: 'c1' } }) };
    const api = new EcsApiClient({ endpoint: url, region: 'us-west-2' });
    const out = await api.call('CreateCluster', { clusterName: 'c1' });
    assert.equal(out.cluster?.clusterName, 'c1');
    const req = seen.at(-1)!;
    assert.equal(req.headers['x-amz-target'], 'AmazonEC2ContainerServiceV20141113.CreateCluster');
    assert.equal(req.headers['content-type'], 'application/x-amz-json-1.1');
    assert.equal(identityFromAuthorization(req.headers.authorization).region, 'us-west-2');
    assert.deepEqual(JSON.parse(req.body), { clusterName: 'c1' });
  });

  it('turns an error answer into EcsApiError with the wire code', async () => {
    answer = {
      status: 400,
      body: JSON.stringify({ __type: 'ClusterNotFoundException', message: 'Cluster not found.' }),
    };
    const api = new EcsApiClient({ endpoint: url, region: 'us-east-1' });
    await assert.rejects(api.call('RegisterContainerInstance', { cluster: 'x' }), (e: unknown) => {
      assert.ok(e instanceof EcsApiError);
      assert.equal(e.code, 'ClusterNotFoundException');
      assert.equal(e.status, 400);
      assert.match(e.message, /Cluster not found/);
      return true;
    });
  });

  it('keeps only the shape name of a namespaced __type', async () => {
    answer = {
      status: 500,
      body: JSON.stringify({ __type: 'com.amazonaws.ecs#ServerException', message: 'boom' }),
    };
    const api = new EcsApiClient({ endpoint: url, region: 'us-east-1' });
    await assert.rejects(
      api.call('ListClusters', {}),
      (e: unknown) => e instanceof EcsApiError && e.code === 'ServerException',
    );
  });
});
