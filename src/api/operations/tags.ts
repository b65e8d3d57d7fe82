import type { OperationGroup } from '../context.js';

export const tagOperations: OperationGroup = {};
