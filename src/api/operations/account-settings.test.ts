import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keys } from '../../store/keys.js';
import type { OperationGroup } from '../context.js';
import { testContext } from './test-context.js';
import { accountSettingOperations, effectiveAccountSetting } from './account-settings.js';

const ops = accountSettingOperations as Required<OperationGroup>;
const ROOT = 'arn:aws:iam::123456789012:root';
const ALICE = 'arn:aws:iam::123456789012:user/alice';
const BOB = 'arn:aws:iam::123456789012:user/bob';

describe('PutAccountSetting', () => {
  it('sets a setting for the caller by default and stores it under the caller', async () => {
    const ctx = testContext({ principalArn: ALICE });
    const { setting } = await ops.PutAccountSetting(ctx, { name: 'containerInsights', value: 'enhanced' });
    assert.deepEqual(setting, {
      name: 'containerInsights',
      value: 'enhanced',
      principalArn: ALICE,
      type: 'user',
    });
    const stored = await ctx.store.get(keys.accountSetting(ctx, ALICE, 'containerInsights'));
    assert.deepEqual(stored?.value, setting);
  });

  it('sets a setting for a named principal', async () => {
    const ctx = testContext();
    const { setting } = await ops.PutAccountSetting(ctx, {
      name: 'awsvpcTrunking',
      value: 'enabled',
      principalArn: BOB,
    });
    assert.equal(setting?.principalArn, BOB);
    assert.equal((await effectiveAccountSetting(ctx, 'awsvpcTrunking', BOB)).value, 'enabled');
    assert.equal((await effectiveAccountSetting(ctx, 'awsvpcTrunking', ALICE)).value, 'disabled');
  });

  it('treats the root user’s setting as the account default', async () => {
    const ctx = testContext({ principalArn: ROOT });
    await ops.PutAccountSetting(ctx, { name: 'containerInsights', value: 'enabled' });
    assert.ok(await ctx.store.get(keys.accountSetting(ctx, '~default', 'containerInsights')));
    assert.equal((await effectiveAccountSetting(ctx, 'containerInsights', ALICE)).value, 'enabled');
  });

  it('refuses bad values, read-only settings, account-level settings per user and bad principals', async () => {
    const ctx = testContext();
    await assert.rejects(ops.PutAccountSetting(ctx, { name: 'containerInsights', value: 'on' }), {
      code: 'InvalidParameterException',
      message: /valid values are enabled, disabled, enhanced/,
    });
    await assert.rejects(ops.PutAccountSetting(ctx, { name: 'serviceLongArnFormat', value: 'disabled' }), {
      code: 'InvalidParameterException',
      message: 'You can no longer disable Long Arn settings.',
    });
    await assert.rejects(ops.PutAccountSetting(ctx, { name: 'guardDutyActivate', value: 'on' }), {
      code: 'InvalidParameterException',
      message: /read-only/,
    });
    await assert.rejects(
      ops.PutAccountSetting(ctx, {
        name: 'fargateTaskRetirementWaitPeriod',
        value: '14',
        principalArn: ALICE,
      }),
      { code: 'InvalidParameterException', message: /whole account/ },
    );
    await assert.rejects(
      ops.PutAccountSetting(ctx, { name: 'awsvpcTrunking', value: 'enabled', principalArn: 'alice' }),
      { code: 'InvalidParameterException', message: /principalArn/ },
    );
    await assert.rejects(
      ops.PutAccountSetting(ctx, { name: 'nonsense' as 'awsvpcTrunking', value: 'enabled' }),
      {
        code: 'InvalidParameterException',
      },
    );
  });
});

describe('PutAccountSettingDefault', () => {
  it('sets the account default, reported as the root user’s', async () => {
    const ctx = testContext({ principalArn: ALICE });
    const { setting } = await ops.PutAccountSettingDefault(ctx, {
      name: 'fargateTaskRetirementWaitPeriod',
      value: '0',
    });
    assert.deepEqual(setting, {
      name: 'fargateTaskRetirementWaitPeriod',
      value: '0',
      principalArn: ROOT,
      type: 'user',
    });
    assert.equal((await effectiveAccountSetting(ctx, 'fargateTaskRetirementWaitPeriod')).value, '0');
    await assert.rejects(
      ops.PutAccountSettingDefault(ctx, { name: 'fargateTaskRetirementWaitPeriod', value: '30' }),
      {
        code: 'InvalidParameterException',
      },
    );
  });
});

describe('DeleteAccountSetting', () => {
  it('deletes the principal’s setting, which falls back to the default', async () => {
    const ctx = testContext({ principalArn: ALICE });
    await ops.PutAccountSettingDefault(ctx, { name: 'containerInsights', value: 'enabled' });
    await ops.PutAccountSetting(ctx, { name: 'containerInsights', value: 'disabled' });
    assert.equal((await effectiveAccountSetting(ctx, 'containerInsights')).value, 'disabled');
    const { setting } = await ops.DeleteAccountSetting(ctx, { name: 'containerInsights' });
    assert.deepEqual(setting, {
      name: 'containerInsights',
      value: 'disabled',
      principalArn: ALICE,
      type: 'user',
    });
    assert.equal(await ctx.store.get(keys.accountSetting(ctx, ALICE, 'containerInsights')), undefined);
    assert.equal((await effectiveAccountSetting(ctx, 'containerInsights')).value, 'enabled');
    // Deleting again changes nothing and does not fail.
    assert.deepEqual(await ops.DeleteAccountSetting(ctx, { name: 'containerInsights' }), {});
  });

  it('deletes the account default for the root user', async () => {
    const ctx = testContext();
    await ops.PutAccountSettingDefault(ctx, { name: 'awsvpcTrunking', value: 'enabled' });
    const { setting } = await ops.DeleteAccountSetting(ctx, { name: 'awsvpcTrunking', principalArn: ROOT });
    assert.equal(setting?.principalArn, ROOT);
    assert.equal((await effectiveAccountSetting(ctx, 'awsvpcTrunking')).value, 'disabled');
  });

  it('refuses read-only settings', async () => {
    const ctx = testContext();
    await assert.rejects(ops.DeleteAccountSetting(ctx, { name: 'guardDutyActivate' }), {
      code: 'InvalidParameterException',
    });
  });
});

describe('ListAccountSettings', () => {
  it('lists only what the principal set, without effectiveSettings', async () => {
    const ctx = testContext({ principalArn: ALICE });
    assert.deepEqual(await ops.ListAccountSettings(ctx, {}), { settings: [] });
    await ops.PutAccountSetting(ctx, { name: 'containerInsights', value: 'enabled' });
    await ops.PutAccountSettingDefault(ctx, { name: 'awsvpcTrunking', value: 'enabled' });
    assert.deepEqual(await ops.ListAccountSettings(ctx, {}), {
      settings: [{ name: 'containerInsights', value: 'enabled', principalArn: ALICE, type: 'user' }],
    });
    const forRoot = await ops.ListAccountSettings(ctx, { principalArn: ROOT });
    assert.deepEqual(forRoot.settings, [
      { name: 'awsvpcTrunking', value: 'enabled', principalArn: ROOT, type: 'user' },
    ]);
  });

  it('resolves every setting with effectiveSettings: own, then account default, then built-in', async () => {
    const ctx = testContext({ principalArn: ALICE });
    await ops.PutAccountSetting(ctx, { name: 'containerInsights', value: 'enhanced' });
    await ops.PutAccountSettingDefault(ctx, { name: 'awsvpcTrunking', value: 'enabled' });
    const settings: NonNullable<Awaited<ReturnType<typeof ops.ListAccountSettings>>['settings']> = [];
    let nextToken: string | undefined;
    do {
      const page = await ops.ListAccountSettings(ctx, {
        effectiveSettings: true,
        ...(nextToken ? { nextToken } : {}),
      });
      assert.ok((page.settings?.length ?? 0) <= 10);
      settings.push(...(page.settings ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const byName = Object.fromEntries(settings.map((s) => [s.name, s]));
    assert.equal(settings.length, 11, 'one per setting name');
    assert.deepEqual(byName.containerInsights, {
      name: 'containerInsights',
      value: 'enhanced',
      principalArn: ALICE,
      type: 'user',
    });
    assert.deepEqual(byName.awsvpcTrunking, {
      name: 'awsvpcTrunking',
      value: 'enabled',
      principalArn: ROOT,
      type: 'user',
    });
    assert.equal(byName.taskLongArnFormat?.value, 'enabled');
    assert.equal(byName.fargateTaskRetirementWaitPeriod?.value, '7');
    assert.equal(byName.tagResourceAuthorization?.value, 'on');
    assert.deepEqual(byName.guardDutyActivate, {
      name: 'guardDutyActivate',
      value: 'off',
      principalArn: ROOT,
      type: 'aws_managed',
    });
  });

  it('filters by name and value', async () => {
    const ctx = testContext({ principalArn: ALICE });
    const one = await ops.ListAccountSettings(ctx, { name: 'defaultLogDriverMode', effectiveSettings: true });
    assert.deepEqual(one.settings, [
      { name: 'defaultLogDriverMode', value: 'non-blocking', principalArn: ROOT, type: 'user' },
    ]);
    const miss = await ops.ListAccountSettings(ctx, {
      name: 'defaultLogDriverMode',
      value: 'blocking',
      effectiveSettings: true,
    });
    assert.deepEqual(miss.settings, []);
    await assert.rejects(ops.ListAccountSettings(ctx, { value: 'enabled' }), {
      code: 'InvalidParameterException',
      message: /value can only be used together with name/,
    });
  });

  it('pages with maxResults 1–10', async () => {
    const ctx = testContext();
    const p1 = await ops.ListAccountSettings(ctx, { effectiveSettings: true, maxResults: 4 });
    assert.deepEqual(
      p1.settings?.map((s) => s.name),
      ['serviceLongArnFormat', 'taskLongArnFormat', 'containerInstanceLongArnFormat', 'awsvpcTrunking'],
    );
    const p2 = await ops.ListAccountSettings(ctx, {
      effectiveSettings: true,
      maxResults: 4,
      nextToken: p1.nextToken,
    });
    assert.equal(p2.settings?.[0]?.name, 'containerInsights');
    const p3 = await ops.ListAccountSettings(ctx, {
      effectiveSettings: true,
      maxResults: 4,
      nextToken: p2.nextToken,
    });
    assert.equal(p3.settings?.length, 3);
    assert.equal(p3.nextToken, undefined);
    await assert.rejects(ops.ListAccountSettings(ctx, { maxResults: 11 }), {
      code: 'InvalidParameterException',
    });
  });
});
