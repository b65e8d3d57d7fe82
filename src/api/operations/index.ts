// Every ECS operation Berth serves, by name. One module per operation group.
import type { OperationGroup } from '../context.js';
import { clusterOperations } from './clusters.js';
import { taskDefinitionOperations } from './task-definitions.js';
import { capacityProviderOperations } from './capacity-providers.js';
import { tagOperations } from './tags.js';
import { attributeOperations } from './attributes.js';
import { accountSettingOperations } from './account-settings.js';
import { containerInstanceOperations } from './container-instances.js';
import { taskOperations } from './tasks.js';
import { serviceOperations } from './services.js';
import { taskSetOperations } from './task-sets.js';

export const operations: OperationGroup = {
  ...clusterOperations,
  ...taskDefinitionOperations,
  ...capacityProviderOperations,
  ...tagOperations,
  ...attributeOperations,
  ...accountSettingOperations,
  ...containerInstanceOperations,
  ...taskOperations,
  ...serviceOperations,
  ...taskSetOperations,
};
