// clientToken idempotency: a request is identified by every member but the token, serialised
// canonically (sorted keys, absent members dropped) so that member order does not matter.
import { createHash } from 'node:crypto';

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** sha256 of the request without its clientToken. */
export function requestFingerprint(input: { clientToken?: string }): string {
  const { clientToken: _token, ...rest } = input;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}
