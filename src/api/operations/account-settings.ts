import type { OperationGroup } from '../context.js';

export const accountSettingOperations: OperationGroup = {};
