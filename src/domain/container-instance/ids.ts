// Identifiers of container instances. ECS container instance ids (new ARN format) are 32 lower-case
// hex characters; Berth derives them from a random uuid (ctx.newId()) by dropping the hyphens, so
// `container-instance/<cluster>/0e8e2a3c1b2d4f5a8b9c0d1e2f3a4b5c` looks like what ECS hands out.
// Hosts that send no EC2 instance identity document get an EC2-like id `i-<17 hex>` instead.

const HEX32 = /^[0-9a-f]{32}$/;
/** What Berth accepts as a bare container instance id in a request (its own ids, and ECS's older uuid form). */
const ID_REF = /^[A-Za-z0-9-]{1,64}$/;

function hexOf(uuid: string): string {
  const hex = uuid.replace(/-/g, '').toLowerCase();
  if (!HEX32.test(hex)) throw new Error(`expected a uuid (32 hex digits), got '${uuid}'`);
  return hex;
}

/** A container instance id (32 hex characters) from a random uuid. */
export function containerInstanceIdFromUuid(uuid: string): string {
  return hexOf(uuid);
}

/** An EC2-like instance id (`i-` and 17 hex characters) from a random uuid, for hosts outside EC2. */
export function ec2LikeInstanceIdFromUuid(uuid: string): string {
  return `i-${hexOf(uuid).slice(0, 17)}`;
}

/** Whether a bare id could name a container instance (anything else can only be MISSING). */
export function isContainerInstanceIdRef(id: string): boolean {
  return ID_REF.test(id);
}
