import type { OperationGroup } from '../context.js';

export const containerInstanceOperations: OperationGroup = {};
