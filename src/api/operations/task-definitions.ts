import type { OperationGroup } from '../context.js';

export const taskDefinitionOperations: OperationGroup = {};
