// Who is calling and where: the region comes from the SigV4 credential scope of the request
// (`Credential=AKID/20261121/us-west-2/ecs/aws4_request`), falling back to the configured
// default. Signature verification comes later; any signature is accepted for now.

export interface CallerIdentity {
  accessKeyId?: string;
  region?: string;
}

const CREDENTIAL = /Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

export function identityFromAuthorization(header: string | undefined): CallerIdentity {
  if (!header) return {};
  const m = CREDENTIAL.exec(header);
  if (!m) return {};
  return { accessKeyId: m[1], region: m[3] };
}

/** Region names look like `us-east-1`, `eu-central-2`, `local`; anything else is not trusted into keys. */
export function isPlausibleRegion(region: string): boolean {
  return /^[a-z0-9-]{1,32}$/.test(region);
}
