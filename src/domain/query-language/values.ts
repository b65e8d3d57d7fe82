// How the cluster query language reads the values it compares: agent versions (dotted numbers,
// compared number by number), registration dates (the formats the ECS guide lists, compared as
// instants), whole numbers, and regular expressions (ECS uses Java's, which match the WHOLE
// value: `t2.*` matches `t2.micro` but not `xt2.micro`; JavaScript's syntax is close enough for
// the patterns people write, and anything it cannot compile is refused with its reason).

/** `1.14.5`, `v1.14.5`, `1.14.5-rc1` → [1, 14, 5]; anything not starting with a number → undefined. */
export function parseVersion(text: string): number[] | undefined {
  const m = /^v?(\d+(?:\.\d+)*)/.exec(text.trim());
  if (!m) return undefined;
  return m[1]!.split('.').map(Number);
}

/** Negative, zero or positive as `a` is lower than, equal to or higher than `b`; missing parts are 0. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Epoch seconds of `2018-06-18T22:28:28+00:00`, `2018-06-18T22:28:28Z`, `2018-06-18T22:28:28`
 * or `2018-06-18` (the formats ECS documents; fractions of a second are accepted too). A date
 * without an offset is UTC, so the answer never depends on the server's time zone.
 */
export function parseDate(text: string): number | undefined {
  const m = DATE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (frac !== undefined) ms += Math.round(Number(frac) * 1000);
  if (zone !== undefined && zone !== 'Z') {
    const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const offset = (Number(zm[2]) * 60 + Number(zm[3])) * 60_000;
    if (Number(zm[2]) > 23 || Number(zm[3]) > 59) return undefined;
    ms -= zm[1] === '+' ? offset : -offset;
  }
  return ms / 1000;
}

/** A whole, non-negative number written in decimal. */
export function parseCount(text: string): number | undefined {
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

const NUMBER = /^-?\d+(?:\.\d+)?$/;

/**
 * Ordering of two attribute values: numerically when both are numbers (so `10 > 9`), else by
 * code point.
 */
export function compareAttributeValues(a: string, b: string): number {
  if (NUMBER.test(a) && NUMBER.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The pattern compiled to match a whole value; throws with the engine's reason when invalid. */
export function compileWholeMatch(pattern: string): RegExp {
  // Compile alone first, so an error names the user's pattern rather than the wrapped one.
  new RegExp(pattern);
  return new RegExp(`^(?:${pattern})$`);
}
