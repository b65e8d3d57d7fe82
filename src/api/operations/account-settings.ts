// PutAccountSetting, PutAccountSettingDefault, DeleteAccountSetting, ListAccountSettings.
// Settings are stored per principal under keys.accountSetting; the account default (the root
// user's setting) under the principal `~default`. Rules and defaults: domain/account-settings.
import {
  ACCOUNT_DEFAULT_PRINCIPAL,
  SETTING_NAMES,
  accountRootArn,
  callerPrincipal,
  isRootPrincipal,
  isSettingName,
  principalKey,
  resolveEffectiveSetting,
  validatePrincipalArn,
  validateSettingWrite,
} from '../../domain/account-settings/account-settings.js';
import { invalidParameter } from '../../domain/errors.js';
import type { AccountSettingRecord } from '../../domain/records.js';
import type { Setting, SettingName } from '../../generated/ecs/types.js';
import { updateRecord } from '../../store/cas.js';
import { keys } from '../../store/keys.js';
import type { OperationGroup, RequestContext } from '../context.js';
import { pageOf, pageSize } from '../pagination.js';

/** ListAccountSettings pages hold 1–10 settings, 10 by default (ECS). */
const MAX_SETTINGS_PAGE = 10;

function requireSettingName(name: string): SettingName {
  if (!isSettingName(name)) {
    throw invalidParameter(
      `name '${name}' is not an account setting; valid names are ${SETTING_NAMES.join(', ')}.`,
    );
  }
  return name;
}

/** The principal a request is about: the one it names, else the caller. */
function targetPrincipal(ctx: RequestContext, explicit: string | undefined): string {
  if (explicit === undefined || explicit === '') return callerPrincipal(ctx.principalArn, ctx.account);
  validatePrincipalArn(explicit, ctx.account);
  return explicit;
}

/**
 * The value of `name` in effect for a principal (the caller by default): own → account default
 * → ECS's built-in default. CreateCluster uses it for containerInsights.
 */
export async function effectiveAccountSetting(
  ctx: RequestContext,
  name: SettingName,
  principalArn: string = callerPrincipal(ctx.principalArn, ctx.account),
): Promise<Setting> {
  const own = isRootPrincipal(principalArn, ctx.account)
    ? undefined
    : await ctx.store.get<AccountSettingRecord>(keys.accountSetting(ctx, principalArn, name));
  const accountDefault = await ctx.store.get<AccountSettingRecord>(
    keys.accountSetting(ctx, ACCOUNT_DEFAULT_PRINCIPAL, name),
  );
  return resolveEffectiveSetting(name, principalArn, ctx.account, own?.value, accountDefault?.value);
}

/** Writes one setting; the last writer wins, as with ECS. */
async function putSetting(
  ctx: RequestContext,
  name: SettingName,
  value: string,
  principalArn: string,
): Promise<Setting> {
  const accountLevel = isRootPrincipal(principalArn, ctx.account);
  validateSettingWrite(name, value, accountLevel);
  const setting: AccountSettingRecord = {
    name,
    value,
    principalArn: accountLevel ? accountRootArn(ctx.account) : principalArn,
    type: 'user',
  };
  const key = keys.accountSetting(ctx, principalKey(principalArn, ctx.account), name);
  await ctx.store.txn([], [{ kind: 'put', key, value: setting }]);
  return { ...setting };
}

export const accountSettingOperations: OperationGroup = {
  async PutAccountSetting(ctx, input) {
    const name = requireSettingName(input.name);
    const setting = await putSetting(ctx, name, input.value, targetPrincipal(ctx, input.principalArn));
    return { setting };
  },

  async PutAccountSettingDefault(ctx, input) {
    const name = requireSettingName(input.name);
    const setting = await putSetting(ctx, name, input.value, accountRootArn(ctx.account));
    return { setting };
  },

  async DeleteAccountSetting(ctx, input) {
    const name = requireSettingName(input.name);
    const principal = targetPrincipal(ctx, input.principalArn);
    validateSettingWrite(name, undefined, isRootPrincipal(principal, ctx.account));
    const key = keys.accountSetting(ctx, principalKey(principal, ctx.account), name);
    let deleted: AccountSettingRecord | undefined;
    await updateRecord<AccountSettingRecord>(ctx.store, key, (cur) => {
      deleted = cur;
      return cur === undefined ? undefined : null;
    });
    // Nothing was set: nothing to report, and nothing to fail on (deleting is idempotent).
    return deleted ? { setting: { ...deleted } } : {};
  },

  async ListAccountSettings(ctx, input) {
    if (input.value !== undefined && input.name === undefined) {
      throw invalidParameter(
        'value can only be used together with name: specify the account setting name too.',
      );
    }
    const size = pageSize(input.maxResults, MAX_SETTINGS_PAGE);
    const principal = targetPrincipal(ctx, input.principalArn);
    const names = input.name !== undefined ? [requireSettingName(input.name)] : SETTING_NAMES;

    let settings: Setting[];
    if (input.effectiveSettings === true) {
      settings = await Promise.all(names.map((n) => effectiveAccountSetting(ctx, n, principal)));
    } else {
      const stored = await ctx.store.list<AccountSettingRecord>(
        keys.accountSettingsOf(ctx, principalKey(principal, ctx.account)),
      );
      const byName = new Map(stored.map((r) => [r.value.name, r.value]));
      settings = names.flatMap((n) => {
        const s = byName.get(n);
        return s ? [{ ...s }] : [];
      });
    }
    if (input.value !== undefined) settings = settings.filter((s) => s.value === input.value);

    const page = pageOf(
      settings.map((s) => ({ key: s.name ?? '', item: s })),
      input.nextToken,
      size,
    );
    return page.nextToken !== undefined
      ? { settings: page.items, nextToken: page.nextToken }
      : { settings: page.items };
  },
};
