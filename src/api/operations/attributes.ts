import type { OperationGroup } from '../context.js';

export const attributeOperations: OperationGroup = {};
