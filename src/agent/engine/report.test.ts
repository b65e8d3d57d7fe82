import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, computeTaskHealth, reportFingerprint } from './report.js';
import { taskSnapshot } from './snapshot.js';
import { agentTask, c, stateOf } from './test-support.js';

const hc = { healthCheck: { command: ['CMD', 'true'] } };

describe('buildReport', () => {
  it('reports a running bridge task with its host ports, ids and timestamps in seconds', () => {
    const s = stateOf(
      agentTask([c('app', { portMappings: [{ containerPort: 80 }] })]),
      {
        app: {
          known: 'RUNNING',
          dockerId: 'd1',
          ports: [{ containerPort: 80, protocol: 'tcp', hostPort: 49153, hostIp: '0.0.0.0' }],
        },
      },
      { known: 'RUNNING', pullStartedAt: 1000, pullStoppedAt: 2000, startedAt: 3000 },
    );
    const r = buildReport(s, 'us-east-1');
    assert.equal(r.status, 'RUNNING');
    assert.equal(r.pullStartedAt, 1);
    assert.equal(r.pullStoppedAt, 2);
    assert.equal(r.startedAt, 3);
    assert.equal(r.stopCode, undefined);
    assert.equal(r.healthStatus, 'UNKNOWN');
    assert.deepEqual(r.containers, [
      {
        containerName: 'app',
        status: 'RUNNING',
        runtimeId: 'd1',
        networkBindings: [{ bindIP: '0.0.0.0', containerPort: 80, hostPort: 49153, protocol: 'tcp' }],
        dockerName: s.containers[0]!.dockerName,
        image: 'img/app:1',
      },
    ]);
  });

  it('host mode reports the container ports as host ports; awsvpc reports the ENI', () => {
    const host = stateOf(
      agentTask([c('app', { portMappings: [{ containerPort: 8080 }] })], {
        taskDefinition: { networkMode: 'host' },
      }),
      { app: { known: 'RUNNING' } },
    );
    assert.deepEqual(buildReport(host, 'us-east-1').containers[0]!.networkBindings, [
      { bindIP: '0.0.0.0', containerPort: 8080, hostPort: 8080, protocol: 'tcp' },
    ]);
    const vpc = stateOf(
      agentTask([c('app', { portMappings: [{ containerPort: 80 }] })], {
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['subnet-1'] },
      }),
      {
        app: { known: 'RUNNING' },
      },
    );
    Object.assign(vpc.network!, { status: 'READY', ip: '198.19.0.5', macAddress: '02:42:c6:13:00:05' });
    const r = buildReport(vpc, 'us-east-1');
    assert.deepEqual(r.containers[0]!.networkBindings, []);
    assert.deepEqual(r.eni, {
      attachmentId: vpc.network!.attachmentId,
      subnetId: 'subnet-1',
      networkInterfaceId: vpc.network!.networkInterfaceId,
      macAddress: '02:42:c6:13:00:05',
      privateIPv4Address: '198.19.0.5',
      privateDnsName: 'ip-198-19-0-5.ec2.internal',
    });
    assert.match(vpc.network!.networkInterfaceId, /^eni-[0-9a-f]{17}$/);
  });

  it("uses the task's own ENI attachment id when the control plane sends one", () => {
    const t = agentTask([c('app')], {
      taskDefinition: { networkMode: 'awsvpc' },
      awsvpcConfiguration: { subnets: ['s'] },
      eniAttachmentId: 'att-1',
    });
    const s = stateOf(t, { app: { known: 'RUNNING' } });
    Object.assign(s.network!, { status: 'READY', ip: '198.19.0.9' });
    assert.equal(buildReport(s, 'us-east-1').eni?.attachmentId, 'att-1');
  });

  it('reports the stop code, reason, exit codes and container reasons once stopping', () => {
    const s = stateOf(
      agentTask([c('app')]),
      { app: { known: 'STOPPED', exitCode: 1, reason: 'x' } },
      {
        desired: 'STOPPED',
        known: 'STOPPED',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
        stoppingAt: 4000,
        executionStoppedAt: 5000,
      },
    );
    const r = buildReport(s, 'us-east-1');
    assert.equal(r.stopCode, 'EssentialContainerExited');
    assert.equal(r.reason, 'Essential container in task exited');
    assert.equal(r.stoppingAt, 4);
    assert.equal(r.executionStoppedAt, 5);
    assert.equal(r.containers[0]!.exitCode, 1);
    assert.equal(r.containers[0]!.reason, 'x');
  });
});

describe('computeTaskHealth', () => {
  it('UNKNOWN without checks; HEALTHY only when every essential checked container is healthy', () => {
    const t = agentTask([c('a', hc), c('b', hc), c('n', { ...hc, essential: false })]);
    const at = (a: string, b: string, n: string) =>
      computeTaskHealth(
        stateOf(t, {
          a: { known: 'RUNNING', health: { status: a as 'HEALTHY' } },
          b: { known: 'RUNNING', health: { status: b as 'HEALTHY' } },
          n: { known: 'RUNNING', health: { status: n as 'HEALTHY' } },
        }).containers,
      );
    assert.equal(at('HEALTHY', 'HEALTHY', 'UNHEALTHY'), 'HEALTHY');
    assert.equal(at('HEALTHY', 'UNKNOWN', 'HEALTHY'), 'UNKNOWN');
    assert.equal(at('HEALTHY', 'UNHEALTHY', 'HEALTHY'), 'UNHEALTHY');
    assert.equal(
      computeTaskHealth(stateOf(agentTask([c('a')]), { a: { known: 'RUNNING' } }).containers),
      'UNKNOWN',
    );
  });
});

describe('reportFingerprint', () => {
  it('changes with what the control plane shows, not with container ids alone', () => {
    const s = stateOf(agentTask([c('app')]), { app: { known: 'CREATED' } }, { known: 'PENDING' });
    const before = reportFingerprint(buildReport(s, 'us-east-1'));
    s.containers[0]!.dockerId = 'new';
    assert.equal(reportFingerprint(buildReport(s, 'us-east-1')), before);
    s.containers[0]!.known = 'RUNNING';
    assert.notEqual(reportFingerprint(buildReport(s, 'us-east-1')), before);
  });
});

describe('taskSnapshot', () => {
  it('gives the metadata endpoint the task, the containers and their networks', () => {
    const s = stateOf(
      agentTask([c('app', { portMappings: [{ containerPort: 80 }] })], {
        taskDefinition: { networkMode: 'awsvpc' },
        awsvpcConfiguration: { subnets: ['s'] },
      }),
      {
        app: {
          known: 'RUNNING',
          dockerId: 'd1',
          startedAt: 10,
          labels: { a: 'b' },
          limits: { cpu: 0, memory: 64 },
        },
      },
    );
    Object.assign(s.network!, { status: 'READY', ip: '198.19.0.7', subnetCidr: '198.19.0.0/24' });
    const snap = taskSnapshot(s, 'us-east-1a');
    assert.equal(snap.knownStatus, s.known);
    assert.equal(snap.availabilityZone, 'us-east-1a');
    assert.equal(snap.eni?.privateIPv4Address, '198.19.0.7');
    const ct = snap.containers[0]!;
    assert.equal(ct.metadataId, s.containers[0]!.metadataId);
    assert.equal(ct.knownStatus, 'RUNNING');
    assert.deepEqual(ct.networks, [
      { networkMode: 'awsvpc', ipv4Addresses: ['198.19.0.7'], ipv4SubnetCidrBlock: '198.19.0.0/24' },
    ]);
    assert.deepEqual(ct.ports, [{ containerPort: 80, hostPort: 80, protocol: 'tcp', hostIp: '198.19.0.7' }]);
    assert.deepEqual(ct.limits, { cpu: 0, memory: 64 });
    // A copy: changing it does not change the runner's state.
    ct.labels.a = 'changed';
    assert.equal(s.containers[0]!.labels.a, 'b');
  });
});
