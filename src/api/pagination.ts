// nextToken / maxResults for every List*: the token is the last key returned, opaque to clients.
import { invalidParameter } from '../domain/errors.js';

export const DEFAULT_PAGE_SIZE = 100;

export function encodeToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ k: lastKey }), 'utf8').toString('base64url');
}

export function decodeToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof parsed.k === 'string') return parsed.k;
  } catch {
    // fall through to the error below
  }
  throw invalidParameter('Invalid nextToken: the token is not one this service issued.');
}

/** maxResults must be 1–100 when given (ECS: "maxResults must be between 1 and 100"). */
export function pageSize(maxResults: number | undefined, max = 100): number {
  if (maxResults === undefined) return max;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > max) {
    throw invalidParameter(`maxResults must be between 1 and ${max}.`);
  }
  return maxResults;
}

/**
 * Pages an in-memory, already filtered and ordered list of (key, item) pairs; the order may be
 * any (e.g. newest first), the token names the last key of the previous page.
 */
export function pageOf<T>(
  items: readonly { key: string; item: T }[],
  nextToken: string | undefined,
  maxResults: number | undefined,
): { items: T[]; nextToken?: string } {
  const after = decodeToken(nextToken);
  const size = pageSize(maxResults);
  const start = after === undefined ? 0 : items.findIndex((x) => x.key === after) + 1;
  if (after !== undefined && start === 0) return { items: [] };
  const slice = items.slice(start, start + size);
  const more = start + size < items.length;
  const last = slice[slice.length - 1];
  return more && last
    ? { items: slice.map((x) => x.item), nextToken: encodeToken(last.key) }
    : { items: slice.map((x) => x.item) };
}
