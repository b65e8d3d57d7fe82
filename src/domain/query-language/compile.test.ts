import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isEcsError } from '../errors.js';
import { MAX_QUERY_LENGTH, compileQuery, compileQueryParameter, type InstanceFacts } from './compile.js';
import { QuerySyntaxError } from './tokens.js';

function facts(
  over: Partial<Omit<InstanceFacts, 'attributes' | 'taskGroups'>> & {
    attributes?: Record<string, string | undefined>;
    taskGroups?: Record<string, number>;
  } = {},
): InstanceFacts {
  return {
    agentConnected: over.agentConnected ?? true,
    agentVersion: 'agentVersion' in over ? over.agentVersion : '1.14.5',
    ec2InstanceId: 'ec2InstanceId' in over ? over.ec2InstanceId : 'i-abcd1234',
    registeredAt: 'registeredAt' in over ? over.registeredAt : Date.UTC(2018, 1, 12, 10, 0, 0) / 1000,
    runningTasksCount: over.runningTasksCount ?? 2,
    attributes: new Map(
      Object.entries(
        over.attributes ?? {
          'ecs.instance-type': 't2.small',
          'ecs.availability-zone': 'us-east-1a',
          stack: 'prod',
          cores: '8',
          'ecs.capability.task-eni': undefined,
        },
      ),
    ),
    taskGroups: new Map(Object.entries(over.taskGroups ?? { 'service:production': 2, 'family:batch': 1 })),
  };
}

const base = facts();
const holds = (expr: string, f: InstanceFacts = base): boolean => compileQuery(expr).test(f);

function compileError(expr: string): QuerySyntaxError {
  try {
    compileQuery(expr);
  } catch (e) {
    if (e instanceof QuerySyntaxError) return e;
    throw e;
  }
  assert.fail(`'${expr}' compiled`);
}

describe('compileQuery: the ECS documentation examples', () => {
  it('evaluates each example as the guide describes it', () => {
    assert.equal(holds('attribute:ecs.instance-type == t2.small'), true);
    assert.equal(holds('attribute:ecs.availability-zone in [us-east-1a, us-east-1b]'), true);
    assert.equal(
      holds('attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d'),
      true,
    );
    assert.equal(
      holds(
        'attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d',
        facts({ attributes: { 'ecs.instance-type': 't2.small', 'ecs.availability-zone': 'us-east-1d' } }),
      ),
      false,
    );
    assert.equal(holds('task:group == service:production'), true);
    assert.equal(holds('not(task:group == database)'), true);
    assert.equal(holds('not(task:group == database)', facts({ taskGroups: { database: 1 } })), false);
    assert.equal(holds('runningTasksCount == 1'), false);
    assert.equal(holds('runningTasksCount == 1', facts({ runningTasksCount: 1 })), true);
    assert.equal(holds('runningTasksCount == 0', facts({ runningTasksCount: 0 })), true);
    assert.equal(holds('agentVersion < 1.14.5'), false);
    assert.equal(holds('agentVersion < 1.14.5', facts({ agentVersion: '1.14.4' })), true);
    assert.equal(holds('registeredAt < 2018-02-13'), true);
    assert.equal(holds('registeredAt < 2017-08-01'), false);
    assert.equal(holds("ec2InstanceId in ['i-abcd1234', 'i-wxyz1234']"), true);
    assert.equal(holds('attribute:stack in [prod, staging]'), true);
    assert.equal(holds('attribute:stack in [prod, staging]', facts({ attributes: { stack: 'dev' } })), false);
  });
});

describe('compileQuery: operators on attribute values', () => {
  it('equality and inequality, in both forms', () => {
    for (const [expr, want] of [
      ['attribute:stack == prod', true],
      ['attribute:stack equals prod', true],
      ['attribute:stack == Prod', false],
      ['attribute:stack != prod', false],
      ['attribute:stack not_equals staging', true],
    ] as const) {
      assert.equal(holds(expr), want, expr);
    }
  });

  it('orders numbers numerically and other values by code point', () => {
    for (const [expr, want] of [
      ['attribute:cores > 10', false],
      ['attribute:cores greater_than 7', true],
      ['attribute:cores >= 8', true],
      ['attribute:cores greater_than_equal 9', false],
      ['attribute:cores < 10', true, 'numerically 8 < 10, though "8" > "10" as text'],
      ['attribute:cores less_than 8', false],
      ['attribute:cores <= 8', true],
      ['attribute:cores less_than_equal 7.5', false],
      ['attribute:stack > prew', true],
      ['attribute:stack < staging', true],
    ] as const) {
      assert.equal(holds(expr), want, expr);
    }
  });

  it('exists and not_exists, counting an attribute set without a value', () => {
    assert.equal(holds('attribute:stack exists'), true);
    assert.equal(holds('attribute:ecs.capability.task-eni exists'), true);
    assert.equal(holds('attribute:gpu exists'), false);
    assert.equal(holds('attribute:gpu !exists'), true);
    assert.equal(holds('attribute:stack not_exists'), false);
  });

  it('in and not_in', () => {
    assert.equal(holds('attribute:stack in [staging, prod]'), true);
    assert.equal(holds('attribute:stack !in [staging, prod]'), false);
    assert.equal(holds('attribute:stack not_in [staging]'), true);
  });

  it('matches and not_matches the whole value, with Java-like regular expressions', () => {
    assert.equal(holds('attribute:ecs.instance-type =~ t2.*'), true);
    assert.equal(holds('attribute:ecs.instance-type matches t2'), false, 'the whole value must match');
    assert.equal(holds('attribute:ecs.instance-type =~ 2.small'), false, 'no partial match at the start');
    assert.equal(holds("attribute:ecs.instance-type =~ '(t2|m5)\\.(small|large)'"), true);
    assert.equal(holds('attribute:ecs.instance-type !~ m5.*'), true);
    assert.equal(holds('attribute:ecs.instance-type not_matches t2.*'), false);
  });

  it('treats a missing attribute as failing every positive test and passing every negative one', () => {
    const none = facts({ attributes: {} });
    for (const expr of [
      'attribute:stack == prod',
      'attribute:stack > a',
      'attribute:stack in [prod]',
      'attribute:stack =~ .*',
    ]) {
      assert.equal(holds(expr, none), false, expr);
    }
    for (const expr of [
      'attribute:stack != prod',
      'attribute:stack !in [prod]',
      'attribute:stack !~ .*',
      'attribute:stack !exists',
    ]) {
      assert.equal(holds(expr, none), true, expr);
    }
    const valueless = facts({ attributes: { flag: undefined } });
    assert.equal(holds('attribute:flag == x', valueless), false);
    assert.equal(holds('attribute:flag != x', valueless), true);
  });
});

describe('compileQuery: the other subjects', () => {
  it('agentConnected compares true/false', () => {
    const off = facts({ agentConnected: false });
    assert.equal(holds('agentConnected == true'), true);
    assert.equal(holds('agentConnected == TRUE'), true);
    assert.equal(holds('agentConnected == true', off), false);
    assert.equal(holds('agentConnected != true', off), true);
    assert.equal(holds('agentConnected in [false]', off), true);
    assert.equal(holds('agentConnected not_in [false]', off), false);
    assert.equal(holds('agentConnected =~ f.*', off), true);
    assert.equal(holds('agentConnected !~ f.*', off), false);
  });

  it('agentVersion compares dotted numbers number by number', () => {
    const v = (agentVersion: string | undefined) => facts({ agentVersion });
    assert.equal(holds('agentVersion > 1.14.9', v('1.14.10')), true, '10 > 9, unlike text');
    assert.equal(holds('agentVersion == 1.14', v('1.14.0')), true, 'missing parts are 0');
    assert.equal(holds('agentVersion != 1.14.0', v('1.14')), false);
    assert.equal(holds('agentVersion >= 1.20.0', v('1.20.0')), true);
    assert.equal(holds('agentVersion <= 1.2', v('1.10.0')), false);
    assert.equal(holds('agentVersion less_than v2', v('1.99.99')), true);
    assert.equal(
      holds('agentVersion > 1.0', v('v1.2.3-beta')),
      true,
      'a v prefix and a suffix are tolerated',
    );
    assert.equal(holds('agentVersion > 0.0', v(undefined)), false);
    assert.equal(holds('agentVersion != 1.0', v(undefined)), true);
    assert.equal(holds('agentVersion > 0.0', v('fake')), false, 'an unreadable version is no version');
  });

  it('ec2InstanceId compares strings', () => {
    assert.equal(holds('ec2InstanceId == i-abcd1234'), true);
    assert.equal(holds('ec2InstanceId != i-abcd1234'), false);
    assert.equal(holds('ec2InstanceId not_in [i-1, i-2]'), true);
    assert.equal(holds('ec2InstanceId =~ i-abcd.*'), true);
    assert.equal(holds('ec2InstanceId =~ i-x.*', facts({ ec2InstanceId: undefined })), false);
  });

  it('registeredAt compares instants, in every documented date format', () => {
    const at = facts({ registeredAt: Date.UTC(2018, 5, 18, 22, 28, 28) / 1000 });
    for (const [expr, want] of [
      ['registeredAt == 2018-06-18T22:28:28Z', true],
      ['registeredAt == 2018-06-18T22:28:28+00:00', true],
      ['registeredAt == 2018-06-18T22:28:28', true, 'no offset means UTC'],
      ['registeredAt == 2018-06-19T00:28:28+02:00', true, 'offsets are applied'],
      ['registeredAt > 2018-06-18', true],
      ['registeredAt < 2018-06-19', true],
      ['registeredAt >= 2018-06-18T22:28:29Z', false],
      ['registeredAt <= 2018-06-18T22:28:28.000Z', true],
      ['registeredAt != 2018-06-18T22:28:28Z', false],
    ] as const) {
      assert.equal(holds(expr, at), want, expr);
    }
    assert.equal(holds('registeredAt < 2030-01-01', facts({ registeredAt: undefined })), false);
  });

  it('runningTasksCount compares whole numbers', () => {
    const three = facts({ runningTasksCount: 3 });
    for (const [expr, want] of [
      ['runningTasksCount == 3', true],
      ['runningTasksCount != 3', false],
      ['runningTasksCount > 2', true],
      ['runningTasksCount >= 4', false],
      ['runningTasksCount < 10', true, 'numerically'],
      ['runningTasksCount less_than_equal 3', true],
    ] as const) {
      assert.equal(holds(expr, three), want, expr);
    }
  });

  it('task:group is true when a task of a matching group runs on the instance', () => {
    assert.equal(holds('task:group == family:batch'), true);
    assert.equal(holds('task:group != family:batch'), false, 'not_equals: runs no task of the group');
    assert.equal(holds('task:group in [database, family:batch]'), true);
    assert.equal(holds('task:group not_in [database, cache]'), true);
    assert.equal(holds('task:group =~ service:.*'), true);
    assert.equal(holds('task:group !~ service:.*'), false);
    assert.equal(
      holds('task:group == database', facts({ taskGroups: { database: 0 } })),
      false,
      'a count of 0 is no task',
    );
  });
});

describe('compileQuery: combinators', () => {
  it('evaluates and, or, not with precedence and parentheses', () => {
    assert.equal(holds('attribute:stack == dev or attribute:stack == prod and runningTasksCount == 2'), true);
    assert.equal(
      holds('(attribute:stack == dev or attribute:stack == prod) and runningTasksCount == 5'),
      false,
    );
    assert.equal(holds('attribute:stack == dev || attribute:stack == prod && runningTasksCount == 5'), false);
    assert.equal(holds('not attribute:stack == dev and not agentConnected == false'), true);
    assert.equal(holds('!(attribute:stack == prod) || runningTasksCount > 1'), true);
  });

  it('records the subjects it reads, so callers know whether it needs task groups', () => {
    assert.deepEqual(
      [...compileQuery('attribute:a exists and (task:group == x or agentVersion > 1)').subjects].sort(),
      ['agentVersion', 'attribute', 'taskGroup'],
    );
  });
});

describe('compileQuery: values are checked when compiled', () => {
  const cases: [string, string][] = [
    [
      'agentVersion > abc',
      "'abc' is not a version number such as 1.14.5 (agentVersion compares versions) at column 16",
    ],
    [
      'registeredAt < 2018-13-01',
      "'2018-13-01' is not a date such as 2018-06-18, 2018-06-18T22:28:28, 2018-06-18T22:28:28Z or 2018-06-18T22:28:28+00:00 (registeredAt compares dates) at column 16",
    ],
    [
      'registeredAt < 2018-02-30',
      "'2018-02-30' is not a date such as 2018-06-18, 2018-06-18T22:28:28, 2018-06-18T22:28:28Z or 2018-06-18T22:28:28+00:00 (registeredAt compares dates) at column 16",
    ],
    [
      'runningTasksCount > -1',
      "'-1' is not a whole number (runningTasksCount compares numbers of tasks) at column 21",
    ],
    [
      'agentConnected in [true, yes]',
      "'yes' is not true or false (agentConnected is one of them) at column 26",
    ],
    [
      "attribute:a =~ '(unclosed'",
      "'(unclosed' is not a valid regular expression (/(unclosed/: Unterminated group) at column 16",
    ],
  ];
  for (const [expr, message] of cases) {
    it(`'${expr}'`, () => assert.equal(compileError(expr).message, message));
  }

  it('refuses expressions over 2000 characters', () => {
    const long = `attribute:a == ${'x'.repeat(MAX_QUERY_LENGTH)}`;
    assert.match(
      compileError(long).message,
      /^the expression is 2015 characters long; at most 2000 are allowed at column 2001$/,
    );
    const exact = `attribute:a == ${'x'.repeat(MAX_QUERY_LENGTH - 15)}`;
    assert.equal(exact.length, MAX_QUERY_LENGTH);
    assert.equal(compileQuery(exact).test(base), false);
  });
});

describe('compileQueryParameter', () => {
  it('turns a syntax error into InvalidParameterException naming the member and the column', () => {
    assert.throws(
      () => compileQueryParameter('attribute:ecs.instance-type', 'filter'),
      (e: unknown) =>
        isEcsError(e) &&
        e.code === 'InvalidParameterException' &&
        e.message ===
          "filter is not a valid cluster query expression: expected an operator after 'attribute:ecs.instance-type' at column 28.",
    );
    assert.throws(() => compileQueryParameter(42, 'placementConstraints[0].expression'), /must be a string/);
    assert.equal(compileQueryParameter('runningTasksCount == 2', 'filter').test(base), true);
  });
});
