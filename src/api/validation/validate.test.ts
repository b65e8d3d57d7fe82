// Tests for the model-driven request validator, run against the real generated ECS table (plus a
// small hand-made table for shape kinds ECS does not use: blob, recursion, constrained map keys).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { schema } from '../../generated/ecs/schema.js';
import { EcsError, type WireErrorCode } from '../../domain/errors.js';
import type { ServiceSchema } from './schema-types.js';
import { compileInputValidator, compilePattern, validateInput } from './validate.js';

function validTaskDefinition(): Record<string, unknown> {
  return {
    family: 'web',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    tags: [{ key: 'team', value: 'core' }],
    ephemeralStorage: { sizeInGiB: 30 },
    containerDefinitions: [
      {
        name: 'app',
        image: 'nginx:latest',
        memory: 512,
        essential: true,
        portMappings: [
          { containerPort: 80, hostPort: 80, protocol: 'tcp' },
          { containerPort: 443, protocol: 'tcp', appProtocol: 'http2' },
        ],
        environment: [{ name: 'MODE', value: 'prod' }],
        ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }],
        dockerLabels: { 'com.example.team': 'core' },
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web' } },
      },
    ],
  };
}

/** Asserts that validation fails with `code` and a message equal to (string) or matching (RegExp) `message`. */
function assertRejects(
  operation: string,
  input: unknown,
  code: WireErrorCode,
  message: string | RegExp,
): void {
  assert.throws(
    () => validateInput(schema, operation, input),
    (e: unknown) => {
      assert.ok(e instanceof EcsError, `expected EcsError, got ${String(e)}`);
      assert.equal(e.code, code);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

function withContainer(container: Record<string, unknown>): Record<string, unknown> {
  return { family: 'web', containerDefinitions: [{ name: 'app', image: 'nginx', ...container }] };
}

describe('validateInput: accepted requests', () => {
  it('accepts a complete RegisterTaskDefinition', () => {
    assert.doesNotThrow(() => validateInput(schema, 'RegisterTaskDefinition', validTaskDefinition()));
  });

  it('accepts {} exactly for the operations whose input has no required member', () => {
    let checked = 0;
    for (const [operation, def] of Object.entries(schema.operations)) {
      const required = def.input === null ? [] : (schema.shapes[def.input]?.required ?? []);
      if (required.length === 0) {
        assert.doesNotThrow(() => validateInput(schema, operation, {}), operation);
      } else {
        assertRejects(operation, {}, 'InvalidParameterException', /^Missing required parameter: \w+$/);
      }
      checked++;
    }
    assert.equal(checked, Object.keys(schema.operations).length);
  });

  it('treats null for an optional member as absent', () => {
    const body = { ...validTaskDefinition(), taskRoleArn: null, tags: null };
    assert.doesNotThrow(() => validateInput(schema, 'RegisterTaskDefinition', body));
  });

  it('accepts any JSON inside a document shape', () => {
    const body = {
      serviceName: 'web',
      deploymentConfiguration: {
        lifecycleHooks: [{ hookDetails: { anything: [1, 'two', { three: null }], nested: { deep: true } } }],
      },
    };
    assert.doesNotThrow(() => validateInput(schema, 'CreateService', body));
  });
});

describe('validateInput: body and operation', () => {
  it('answers SerializationException when the body is not a JSON object', () => {
    for (const [body, kind] of [
      [[], 'array'],
      [null, 'null'],
      ['{}', 'string'],
      [42, 'number'],
    ] as const) {
      assertRejects(
        'ListClusters',
        body,
        'SerializationException',
        `Request body must be a JSON object, got ${kind}`,
      );
    }
  });

  it('answers UnknownOperationException for an operation the model lacks', () => {
    assertRejects('LaunchRockets', {}, 'UnknownOperationException', 'Unknown operation: LaunchRockets');
    // Inherited object properties are not operations.
    assertRejects('toString', {}, 'UnknownOperationException', 'Unknown operation: toString');
  });

  it('throws a 400 EcsError named after its code', () => {
    try {
      validateInput(schema, 'RegisterTaskDefinition', { family: 'web' });
      assert.fail('expected a throw');
    } catch (e) {
      assert.ok(e instanceof EcsError);
      assert.equal(e.httpStatus, 400);
      assert.equal(e.name, 'InvalidParameterException');
    }
  });
});

describe('validateInput: required and unknown members', () => {
  it('names a missing top-level member', () => {
    const { family: _family, ...body } = validTaskDefinition();
    assertRejects(
      'RegisterTaskDefinition',
      body,
      'InvalidParameterException',
      'Missing required parameter: family',
    );
  });

  it('treats null for a required member as missing', () => {
    assertRejects(
      'RegisterTaskDefinition',
      { ...validTaskDefinition(), family: null },
      'InvalidParameterException',
      'Missing required parameter: family',
    );
  });

  it('names a missing nested member by its full path', () => {
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({
        ulimits: [
          { name: 'nofile', softLimit: 1, hardLimit: 2 },
          { name: 'core', softLimit: 0 },
        ],
      }),
      'InvalidParameterException',
      'Missing required parameter: containerDefinitions[0].ulimits[1].hardLimit',
    );
  });

  it('rejects an unknown top-level member and lists the known ones', () => {
    assertRejects(
      'DeleteCluster',
      { cluster: 'default', force: true },
      'InvalidParameterException',
      'Unknown parameter in input: "force", must be one of: cluster',
    );
  });

  it('reports a misspelt required member as unknown rather than missing', () => {
    const { family, ...rest } = validTaskDefinition();
    assertRejects(
      'RegisterTaskDefinition',
      { ...rest, famly: family },
      'InvalidParameterException',
      /^Unknown parameter in input: "famly", must be one of: family, taskRoleArn, /,
    );
  });

  it('rejects an unknown nested member with the path of its parent', () => {
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({ portMappings: [{ containerPort: 80 }, { containerPort: 81, hostPrt: 81 }] }),
      'InvalidParameterException',
      /^Unknown parameter in containerDefinitions\[0\]\.portMappings\[1\]: "hostPrt", must be one of: containerPort, hostPort, /,
    );
  });

  it('rejects __proto__ as an unknown member', () => {
    const body: unknown = JSON.parse('{"cluster": "default", "__proto__": {"polluted": true}}');
    assertRejects(
      'DeleteCluster',
      body,
      'InvalidParameterException',
      /^Unknown parameter in input: "__proto__"/,
    );
  });
});

describe('validateInput: types', () => {
  it('rejects a string for an integer with the value and its type', () => {
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({ memory: 'abc' }),
      'InvalidParameterException',
      'Invalid type for parameter containerDefinitions[0].memory: expected an integer, got "abc" (string)',
    );
  });

  it('names a deeply nested member', () => {
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({ portMappings: [{ containerPort: 80 }, { containerPort: '8080' }] }),
      'InvalidParameterException',
      'Invalid type for parameter containerDefinitions[0].portMappings[1].containerPort: expected an integer, got "8080" (string)',
    );
  });

  it('requires integers to be integral and 32-bit', () => {
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({ cpu: 1.5 }),
      'InvalidParameterException',
      'Invalid type for parameter containerDefinitions[0].cpu: expected an integer, got 1.5 (number)',
    );
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({ cpu: 2147483648 }),
      'InvalidParameterException',
      'Invalid range for parameter containerDefinitions[0].cpu: must be at most 2147483647, got 2147483648',
    );
  });

  it('accepts a long beyond 32 bits but not a fraction', () => {
    const resources = (longValue: unknown) => ({
      totalResources: [{ name: 'MEMORY', type: 'LONG', longValue }],
    });
    assert.doesNotThrow(() => validateInput(schema, 'RegisterContainerInstance', resources(2 ** 40)));
    assertRejects(
      'RegisterContainerInstance',
      resources(0.5),
      'InvalidParameterException',
      'Invalid type for parameter totalResources[0].longValue: expected an integer (long), got 0.5 (number)',
    );
  });

  it('rejects a boolean sent as a string', () => {
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({ essential: 'true' }),
      'InvalidParameterException',
      'Invalid type for parameter containerDefinitions[0].essential: expected a boolean, got "true" (string)',
    );
  });

  it('rejects a number for a string, an object for a list and a list for a structure', () => {
    assertRejects(
      'RegisterTaskDefinition',
      { family: 5, containerDefinitions: [] },
      'InvalidParameterException',
      'Invalid type for parameter family: expected a string, got 5 (number)',
    );
    assertRejects(
      'RegisterTaskDefinition',
      { family: 'web', containerDefinitions: { name: 'app' } },
      'InvalidParameterException',
      'Invalid type for parameter containerDefinitions: expected a list, got {"name":"app"} (object)',
    );
    assertRejects(
      'RegisterTaskDefinition',
      { ...validTaskDefinition(), ephemeralStorage: [30] },
      'InvalidParameterException',
      'Invalid type for parameter ephemeralStorage: expected an object, got [30] (array)',
    );
  });

  it('rejects null as a list element', () => {
    assertRejects(
      'RegisterTaskDefinition',
      { family: 'web', containerDefinitions: [null] },
      'InvalidParameterException',
      'Invalid type for parameter containerDefinitions[0]: expected an object, got null (null)',
    );
  });

  it('takes timestamps as epoch-second numbers only', () => {
    const body = (before: unknown) => ({ daemonArn: 'arn', createdAt: { before } });
    assert.doesNotThrow(() => validateInput(schema, 'ListDaemonDeployments', body(1700000000.25)));
    assertRejects(
      'ListDaemonDeployments',
      body('2024-01-01T00:00:00Z'),
      'InvalidParameterException',
      /^Invalid type for parameter createdAt\.before: expected a timestamp \(epoch seconds as a number\), got "2024-01-01T00:00:00Z" \(string\)$/,
    );
  });

  it('rejects a number that overflowed to Infinity while parsing', () => {
    const body: unknown = JSON.parse('{"totalResources": [{"name": "CPU", "doubleValue": 1e999}]}');
    assertRejects(
      'RegisterContainerInstance',
      body,
      'InvalidParameterException',
      /^Invalid type for parameter totalResources\[0\]\.doubleValue: expected a number, got /,
    );
  });

  it('shortens a long offending value in the message', () => {
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({ memory: 'x'.repeat(500) }),
      'InvalidParameterException',
      new RegExp(`got "${'x'.repeat(59)}\\.\\.\\. \\(string\\)$`),
    );
  });
});

describe('validateInput: maps', () => {
  it('names a map value by its key, bracketed when the key is not an identifier', () => {
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({ dockerLabels: { team: 7 } }),
      'InvalidParameterException',
      'Invalid type for parameter containerDefinitions[0].dockerLabels.team: expected a string, got 7 (number)',
    );
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({ logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': false } } }),
      'InvalidParameterException',
      'Invalid type for parameter containerDefinitions[0].logConfiguration.options["awslogs-group"]: expected a string, got false (boolean)',
    );
  });

  it('rejects a list where a map belongs', () => {
    assertRejects(
      'RegisterTaskDefinition',
      withContainer({ dockerLabels: ['a=b'] }),
      'InvalidParameterException',
      'Invalid type for parameter containerDefinitions[0].dockerLabels: expected an object (map), got ["a=b"] (array)',
    );
  });
});

describe('validateInput: enums, lengths, ranges, sizes and patterns', () => {
  it('rejects a value outside the enum and lists the allowed ones', () => {
    assertRejects(
      'RunTask',
      { taskDefinition: 'web', launchType: 'EC3' },
      'InvalidParameterException',
      'Invalid value for parameter launchType: "EC3" is not one of EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES',
    );
    assert.doesNotThrow(() =>
      validateInput(schema, 'RunTask', { taskDefinition: 'web', launchType: 'FARGATE' }),
    );
  });

  it('checks string length at both ends', () => {
    assertRejects(
      'RegisterTaskDefinition',
      { ...validTaskDefinition(), tags: [{ key: '', value: 'v' }] },
      'InvalidParameterException',
      'Invalid length for parameter tags[0].key: must be at least 1 character(s), got 0',
    );
    assertRejects(
      'RegisterTaskDefinition',
      { ...validTaskDefinition(), tags: [{ key: 'k', value: 'v'.repeat(257) }] },
      'InvalidParameterException',
      'Invalid length for parameter tags[0].value: must be at most 256 character(s), got 257',
    );
  });

  it('counts characters, not UTF-16 code units', () => {
    // U+1D49C is a letter outside the BMP: two code units, one character.
    const letter = '\u{1D49C}';
    const tagged = (key: string) => ({ ...validTaskDefinition(), tags: [{ key, value: '' }] });
    assert.doesNotThrow(() => validateInput(schema, 'RegisterTaskDefinition', tagged(letter.repeat(128))));
    assert.doesNotThrow(() => validateInput(schema, 'RegisterTaskDefinition', tagged(letter)));
    assertRejects(
      'RegisterTaskDefinition',
      tagged(letter.repeat(129)),
      'InvalidParameterException',
      'Invalid length for parameter tags[0].key: must be at most 128 character(s), got 129',
    );
  });

  it('checks integer ranges from the model', () => {
    const strategy = (weight: number) => ({
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight }],
    });
    assert.doesNotThrow(() => validateInput(schema, 'CreateCluster', strategy(1000)));
    assertRejects(
      'CreateCluster',
      strategy(1001),
      'InvalidParameterException',
      'Invalid range for parameter defaultCapacityProviderStrategy[0].weight: must be at most 1000, got 1001',
    );
    assertRejects(
      'CreateCluster',
      strategy(-1),
      'InvalidParameterException',
      'Invalid range for parameter defaultCapacityProviderStrategy[0].weight: must be at least 0, got -1',
    );
  });

  it('checks double ranges from the model', () => {
    const daemon = (drainPercent: number) => ({
      daemonName: 'd',
      daemonTaskDefinitionArn: 'arn',
      capacityProviderArns: [],
      deploymentConfiguration: { drainPercent },
    });
    assert.doesNotThrow(() => validateInput(schema, 'CreateDaemon', daemon(99.5)));
    assertRejects(
      'CreateDaemon',
      daemon(100.5),
      'InvalidParameterException',
      'Invalid range for parameter deploymentConfiguration.drainPercent: must be at most 100, got 100.5',
    );
  });

  it('checks list sizes at both ends', () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    assert.doesNotThrow(() => validateInput(schema, 'TagResource', { resourceArn: 'arn', tags: tags(50) }));
    assertRejects(
      'TagResource',
      { resourceArn: 'arn', tags: tags(51) },
      'InvalidParameterException',
      'Too many items in parameter tags: at most 50, got 51',
    );
    const monitoring = (metricNames: string[]) => ({
      serviceName: 'web',
      monitoring: { metricConfigurations: [{ metricNames, resolutionSeconds: 60 }] },
    });
    assert.doesNotThrow(() => validateInput(schema, 'CreateService', monitoring(['CPUUtilization'])));
    assertRejects(
      'CreateService',
      monitoring([]),
      'InvalidParameterException',
      'Too few items in parameter monitoring.metricConfigurations[0].metricNames: at least 1, got 0',
    );
  });

  it('matches model patterns against the whole value', () => {
    const tagged = (key: string) => ({ resourceArn: 'arn', tags: [{ key, value: 'v' }] });
    assert.doesNotThrow(() => validateInput(schema, 'TagResource', tagged('team:core/x_y.z=1+2-3@é 4')));
    assertRejects(
      'TagResource',
      tagged('team#core'),
      'InvalidParameterException',
      'Invalid value for parameter tags[0].key: "team#core" does not match pattern ([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)',
    );
  });

  it('compiles each pattern once, anchored', () => {
    const re = compilePattern('[a-z]+');
    assert.equal(compilePattern('[a-z]+'), re);
    assert.equal(re.test('abc'), true);
    assert.equal(re.test('abc!'), false);
  });
});

describe('compileInputValidator: shape kinds ECS does not use', () => {
  const tiny: ServiceSchema = {
    targetPrefix: 'Tiny',
    endpointPrefix: 'tiny',
    operations: {
      Put: { input: 'PutRequest', output: null, errors: [] },
      Ping: { input: null, output: null, errors: [] },
    },
    shapes: {
      PutRequest: { type: 'structure', members: { tree: 'Node', data: 'Data', labels: 'Labels' } },
      Node: { type: 'structure', members: { name: 'Name', children: 'NodeList' }, required: ['name'] },
      NodeList: { type: 'list', member: 'Node' },
      Name: { type: 'string', min: 1 },
      Data: { type: 'blob' },
      Labels: { type: 'map', key: 'LabelKey', value: 'Name', max: 2 },
      LabelKey: { type: 'string', pattern: '[a-z]+' },
    },
  };
  // Compiled inside each test so a compile failure fails the tests instead of the suite set-up.
  const validate = (operation: string, input: unknown) => compileInputValidator(tiny)(operation, input);

  function rejectsTiny(operation: string, input: unknown, message: string): void {
    assert.throws(
      () => validate(operation, input),
      (e: unknown) =>
        e instanceof EcsError && e.code === 'InvalidParameterException' && e.message === message,
    );
  }

  it('follows recursive shapes', () => {
    assert.doesNotThrow(() =>
      validate('Put', { tree: { name: 'a', children: [{ name: 'b', children: [] }] } }),
    );
    rejectsTiny(
      'Put',
      { tree: { name: 'a', children: [{ name: 'b', children: [{ children: [] }] }] } },
      'Missing required parameter: tree.children[0].children[0].name',
    );
  });

  it('takes blobs as base64 strings', () => {
    assert.doesNotThrow(() => validate('Put', { data: Buffer.from('hello').toString('base64') }));
    rejectsTiny(
      'Put',
      { data: 'not base64!' },
      'Invalid type for parameter data: expected a base64-encoded string, got "not base64!" (string)',
    );
  });

  it('checks map keys and map size', () => {
    assert.doesNotThrow(() => validate('Put', { labels: { a: 'x', b: 'y' } }));
    rejectsTiny(
      'Put',
      { labels: { Bad: 'x' } },
      'Invalid value for parameter labels (key "Bad"): "Bad" does not match pattern [a-z]+',
    );
    rejectsTiny(
      'Put',
      { labels: { a: 'x', b: 'y', c: 'z' } },
      'Too many entries in parameter labels: at most 2, got 3',
    );
  });

  it('lets an operation without an input shape take only an empty object', () => {
    assert.doesNotThrow(() => validate('Ping', {}));
    rejectsTiny('Ping', { x: 1 }, 'Unknown parameter in input: "x", must be one of: (none)');
  });

  it('refuses a table that names a missing shape', () => {
    const broken: ServiceSchema = {
      ...tiny,
      operations: { Put: { input: 'Nope', output: null, errors: [] } },
    };
    assert.throws(() => compileInputValidator(broken), /no shape named Nope/);
  });
});
