import type { OperationGroup } from '../context.js';

export const clusterOperations: OperationGroup = {};
