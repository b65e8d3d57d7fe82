import type { OperationGroup } from '../context.js';

export const capacityProviderOperations: OperationGroup = {};
