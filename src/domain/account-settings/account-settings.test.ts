import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCOUNT_DEFAULT_PRINCIPAL,
  SETTING_NAMES,
  SETTING_RULES,
  accountRootArn,
  callerPrincipal,
  isRootPrincipal,
  isSettingName,
  principalKey,
  resolveEffectiveSetting,
  settingType,
  validatePrincipalArn,
  validateSettingWrite,
} from './account-settings.js';

const ACCOUNT = '123456789012';
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const USER = `arn:aws:iam::${ACCOUNT}:user/alice`;

describe('account setting catalogue', () => {
  it('has a rule for every setting name of the model, with a built-in value it accepts', () => {
    for (const name of SETTING_NAMES) {
      const rule = SETTING_RULES[name];
      assert.ok(
        rule.values.includes(rule.builtIn),
        `${name}: built-in ${rule.builtIn} not among ${rule.values.join()}`,
      );
    }
    assert.equal(Object.keys(SETTING_RULES).length, SETTING_NAMES.length);
  });

  it('knows ECS built-in defaults', () => {
    assert.equal(SETTING_RULES.serviceLongArnFormat.builtIn, 'enabled');
    assert.equal(SETTING_RULES.containerInsights.builtIn, 'disabled');
    assert.equal(SETTING_RULES.awsvpcTrunking.builtIn, 'disabled');
    assert.equal(SETTING_RULES.tagResourceAuthorization.builtIn, 'on');
    assert.equal(SETTING_RULES.fargateTaskRetirementWaitPeriod.builtIn, '7');
    assert.equal(SETTING_RULES.guardDutyActivate.builtIn, 'off');
    assert.equal(SETTING_RULES.defaultLogDriverMode.builtIn, 'non-blocking');
  });

  it('recognises setting names', () => {
    assert.equal(isSettingName('containerInsights'), true);
    assert.equal(isSettingName('dualStack'), false);
  });

  it('marks guardDutyActivate as AWS-managed and the rest as user settings', () => {
    assert.equal(settingType('guardDutyActivate'), 'aws_managed');
    assert.equal(settingType('containerInsights'), 'user');
  });
});

describe('validateSettingWrite', () => {
  it('accepts each listed value', () => {
    validateSettingWrite('containerInsights', 'enhanced', false);
    validateSettingWrite('tagResourceAuthorization', 'off', false);
    validateSettingWrite('defaultLogDriverMode', 'blocking', false);
    validateSettingWrite('fargateTaskRetirementWaitPeriod', '14', true);
  });

  it('refuses a value the setting does not take, naming the valid ones', () => {
    assert.throws(() => validateSettingWrite('awsvpcTrunking', 'on', false), {
      code: 'InvalidParameterException',
      message: /awsvpcTrunking: valid values are enabled, disabled/,
    });
    assert.throws(() => validateSettingWrite('fargateTaskRetirementWaitPeriod', '3', true), {
      code: 'InvalidParameterException',
      message: /0, 7, 14/,
    });
  });

  it('refuses to turn long ARN formats off', () => {
    assert.throws(() => validateSettingWrite('taskLongArnFormat', 'disabled', false), {
      code: 'InvalidParameterException',
      message: 'You can no longer disable Long Arn settings.',
    });
  });

  it('refuses every write of an AWS-managed setting', () => {
    assert.throws(() => validateSettingWrite('guardDutyActivate', 'on', true), /read-only/);
    assert.throws(() => validateSettingWrite('guardDutyActivate', undefined, true), /read-only/);
  });

  it('keeps account-level-only settings off individual principals', () => {
    assert.throws(() => validateSettingWrite('fargateTaskRetirementWaitPeriod', '0', false), {
      code: 'InvalidParameterException',
      message: /whole account/,
    });
  });
});

describe('principals', () => {
  it('recognises the root user of this account only', () => {
    assert.equal(isRootPrincipal(ROOT, ACCOUNT), true);
    assert.equal(isRootPrincipal('arn:aws:iam::210987654321:root', ACCOUNT), false);
    assert.equal(isRootPrincipal(USER, ACCOUNT), false);
  });

  it('stores the root user setting as the account default', () => {
    assert.equal(principalKey(ROOT, ACCOUNT), ACCOUNT_DEFAULT_PRINCIPAL);
    assert.equal(principalKey(USER, ACCOUNT), USER);
    assert.equal(accountRootArn(ACCOUNT), ROOT);
  });

  it('maps a role session to its role and a federated user to the root user', () => {
    assert.equal(
      callerPrincipal(`arn:aws:sts::${ACCOUNT}:assumed-role/Deployer/session-1`, ACCOUNT),
      `arn:aws:iam::${ACCOUNT}:role/Deployer`,
    );
    assert.equal(callerPrincipal(`arn:aws:sts::${ACCOUNT}:federated-user/bob`, ACCOUNT), ROOT);
    assert.equal(callerPrincipal(USER, ACCOUNT), USER);
  });

  it('accepts users, roles and root of this account as explicit principals', () => {
    validatePrincipalArn(USER, ACCOUNT);
    validatePrincipalArn(`arn:aws:iam::${ACCOUNT}:role/app`, ACCOUNT);
    validatePrincipalArn(ROOT, ACCOUNT);
    assert.throws(() => validatePrincipalArn('alice', ACCOUNT), { code: 'InvalidParameterException' });
    assert.throws(
      () => validatePrincipalArn('arn:aws:iam::210987654321:user/alice', ACCOUNT),
      /another account/,
    );
  });
});

describe('resolveEffectiveSetting', () => {
  const own = {
    name: 'containerInsights' as const,
    value: 'enabled',
    principalArn: USER,
    type: 'user' as const,
  };
  const def = {
    name: 'containerInsights' as const,
    value: 'enhanced',
    principalArn: ROOT,
    type: 'user' as const,
  };

  it('prefers the principal’s own setting', () => {
    assert.deepEqual(resolveEffectiveSetting('containerInsights', USER, ACCOUNT, own, def), {
      name: 'containerInsights',
      value: 'enabled',
      principalArn: USER,
      type: 'user',
    });
  });

  it('falls back to the account default, reported as the root user’s', () => {
    assert.deepEqual(resolveEffectiveSetting('containerInsights', USER, ACCOUNT, undefined, def), {
      name: 'containerInsights',
      value: 'enhanced',
      principalArn: ROOT,
      type: 'user',
    });
  });

  it('falls back to the built-in default last', () => {
    assert.equal(
      resolveEffectiveSetting('fargateTaskRetirementWaitPeriod', USER, ACCOUNT, undefined, undefined).value,
      '7',
    );
    const gd = resolveEffectiveSetting('guardDutyActivate', USER, ACCOUNT, undefined, undefined);
    assert.deepEqual(gd, {
      name: 'guardDutyActivate',
      value: 'off',
      principalArn: ROOT,
      type: 'aws_managed',
    });
  });

  it('ignores an own setting for the root user (its setting is the default)', () => {
    assert.equal(
      resolveEffectiveSetting('containerInsights', ROOT, ACCOUNT, own, undefined).value,
      'disabled',
    );
  });
});
