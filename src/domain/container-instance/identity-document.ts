// The EC2 instance identity document an agent sends with RegisterContainerInstance (the JSON the
// instance metadata service serves at /latest/dynamic/instance-identity/document). Berth reads the
// members that feed the instance's ec2InstanceId and built-in attributes. The signature
// (instanceIdentityDocumentSignature) is not verified: Berth's hosts are not EC2 instances, and
// the agent's identity comes from its credentials, not from this document.
import { invalidParameter } from '../errors.js';

export interface InstanceIdentityDocument {
  instanceId?: string;
  availabilityZone?: string;
  instanceType?: string;
  region?: string;
  imageId?: string;
  /** EC2 spells it `x86_64`, `arm64` (`aarch64` on some images), `i386`. */
  architecture?: string;
  privateIp?: string;
  accountId?: string;
}

const STRING_MEMBERS = [
  'instanceId',
  'availabilityZone',
  'instanceType',
  'region',
  'imageId',
  'architecture',
  'privateIp',
  'accountId',
] as const;

/** Parses the document; unknown members are ignored, known ones must be strings. */
export function parseInstanceIdentityDocument(text: string): InstanceIdentityDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidParameter(
      'instanceIdentityDocument must be a JSON object (the EC2 instance identity document).',
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidParameter(
      'instanceIdentityDocument must be a JSON object (the EC2 instance identity document).',
    );
  }
  const source = parsed as Record<string, unknown>;
  const doc: InstanceIdentityDocument = {};
  for (const member of STRING_MEMBERS) {
    const v = source[member];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') {
      throw invalidParameter(`instanceIdentityDocument.${member} must be a string.`);
    }
    if (v !== '') doc[member] = v;
  }
  return doc;
}

/** ECS's `ecs.cpu-architecture` values from EC2's architecture names. */
export function cpuArchitectureAttribute(architecture: string): string {
  return architecture === 'aarch64' ? 'arm64' : architecture;
}
