// ECS account settings: the values each setting accepts, ECS's built-in defaults, who a setting
// belongs to, and how the value in effect for a principal is found.
//
// Three levels, most specific first: a principal's own setting → the account default (what ECS
// calls the root user's setting; PutAccountSettingDefault writes it) → ECS's built-in default.
// The account default is stored under the principal key `~default` and reported with the
// account's root ARN, as ECS does.
import {
  SettingNameValues,
  type Setting,
  type SettingName,
  type SettingType,
} from '../../generated/ecs/types.js';
import { invalidParameter } from '../errors.js';

/** Store principal key of the account default (see keys.accountSetting). */
export const ACCOUNT_DEFAULT_PRINCIPAL = '~default';

export interface SettingRule {
  /** Values PutAccountSetting* accepts. */
  values: readonly string[];
  /** What applies when neither the principal nor the account has set it. */
  builtIn: string;
  /** Only the account (root) level can hold it: ECS requires the root user for it. */
  accountLevelOnly?: boolean;
  /** AWS manages it on the customer's behalf; it can be read, never written or deleted. */
  awsManaged?: boolean;
  /** ECS no longer lets anyone turn it off (long ARN formats); Berth issues only long ARNs. */
  cannotDisable?: boolean;
}

const ON_OFF = ['enabled', 'disabled'] as const;

/** Built-in defaults as ECS documents them today (developer guide, "Account settings"). */
export const SETTING_RULES: Readonly<Record<SettingName, SettingRule>> = {
  serviceLongArnFormat: { values: ON_OFF, builtIn: 'enabled', cannotDisable: true },
  taskLongArnFormat: { values: ON_OFF, builtIn: 'enabled', cannotDisable: true },
  containerInstanceLongArnFormat: { values: ON_OFF, builtIn: 'enabled', cannotDisable: true },
  awsvpcTrunking: { values: ON_OFF, builtIn: 'disabled' },
  containerInsights: { values: ['enabled', 'disabled', 'enhanced'], builtIn: 'disabled' },
  fargateFIPSMode: { values: ON_OFF, builtIn: 'disabled' },
  tagResourceAuthorization: { values: ['on', 'off'], builtIn: 'on' },
  // Days AWS waits before retiring a Fargate task for maintenance.
  fargateTaskRetirementWaitPeriod: { values: ['0', '7', '14'], builtIn: '7', accountLevelOnly: true },
  // Set by GuardDuty (Runtime Monitoring), read-only in ECS.
  guardDutyActivate: { values: ['on', 'off'], builtIn: 'off', awsManaged: true },
  // ECS switched the default from blocking to non-blocking on 2025-06-25.
  defaultLogDriverMode: { values: ['blocking', 'non-blocking'], builtIn: 'non-blocking' },
  fargateEventWindows: { values: ON_OFF, builtIn: 'disabled' },
};

/** Every setting name, in the model's order (the order ListAccountSettings answers in). */
export const SETTING_NAMES: readonly SettingName[] = SettingNameValues;

export function isSettingName(name: string): name is SettingName {
  return (SETTING_NAMES as readonly string[]).includes(name);
}

/** `user` for settings customers manage, `aws_managed` for the read-only ones. */
export function settingType(name: SettingName): SettingType {
  return SETTING_RULES[name].awsManaged ? 'aws_managed' : 'user';
}

/** The root user's ARN: its setting is the account default. */
export function accountRootArn(account: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:root`;
}

const IAM_ARN = /^arn:(aws[a-z-]*):iam::([0-9]{12}):(root|user\/.+|role\/.+)$/;
const STS_ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::([0-9]{12}):assumed-role\/([^/]+)\/.+$/;
const STS_FEDERATED = /^arn:(aws[a-z-]*):sts::([0-9]{12}):federated-user\/.+$/;

export function isRootPrincipal(principalArn: string, account: string): boolean {
  const m = IAM_ARN.exec(principalArn);
  return m !== null && m[2] === account && m[3] === 'root';
}

/**
 * The principal a caller's own settings belong to. A role session sets and reads the role's
 * settings; federated users have none of their own and use the root user's (ECS: "Federated
 * users assume the account setting of the root user").
 */
export function callerPrincipal(callerArn: string, account: string): string {
  const role = STS_ASSUMED_ROLE.exec(callerArn);
  if (role) return `arn:${role[1]}:iam::${role[2]}:role/${role[3]}`;
  if (STS_FEDERATED.test(callerArn)) return accountRootArn(account);
  return callerArn;
}

/** An explicit principalArn must be a user, role or root ARN of this account. */
export function validatePrincipalArn(principalArn: string, account: string): void {
  const m = IAM_ARN.exec(principalArn);
  if (!m) {
    throw invalidParameter(
      `principalArn ${principalArn} is not valid: it must be the ARN of an IAM user, an IAM role or the root user.`,
    );
  }
  if (m[2] !== account) {
    throw invalidParameter(
      `principalArn ${principalArn} is not valid: it belongs to another account (${m[2]}).`,
    );
  }
}

/** Store principal key: the account default for the root user, else the principal's ARN. */
export function principalKey(principalArn: string, account: string): string {
  return isRootPrincipal(principalArn, account) ? ACCOUNT_DEFAULT_PRINCIPAL : principalArn;
}

/**
 * Checks a write (PutAccountSetting, PutAccountSettingDefault, DeleteAccountSetting) of `name`,
 * with `value` when one is being set, at the account level or for one principal.
 */
export function validateSettingWrite(
  name: SettingName,
  value: string | undefined,
  accountLevel: boolean,
): void {
  const rule = SETTING_RULES[name];
  if (rule.awsManaged) {
    throw invalidParameter(`The account setting ${name} is managed by AWS and is read-only.`);
  }
  if (rule.accountLevelOnly && !accountLevel) {
    throw invalidParameter(
      `The account setting ${name} can only be set for the whole account: use the root user's principalArn or PutAccountSettingDefault.`,
    );
  }
  if (value === undefined) return;
  if (!rule.values.includes(value)) {
    throw invalidParameter(
      `Invalid value '${value}' for account setting ${name}: valid values are ${rule.values.join(', ')}.`,
    );
  }
  if (rule.cannotDisable && value === 'disabled') {
    throw invalidParameter('You can no longer disable Long Arn settings.');
  }
}

/**
 * The setting in effect for a principal: its own if set, else the account default, else the
 * built-in default. Account-level and built-in values are reported as the root user's, which is
 * where ECS says they come from.
 */
export function resolveEffectiveSetting(
  name: SettingName,
  principalArn: string,
  account: string,
  own: Setting | undefined,
  accountDefault: Setting | undefined,
): Setting {
  const type = settingType(name);
  if (own?.value !== undefined && !isRootPrincipal(principalArn, account)) {
    return { name, value: own.value, principalArn, type };
  }
  const value = accountDefault?.value ?? SETTING_RULES[name].builtIn;
  return { name, value, principalArn: accountRootArn(account), type };
}
