// Why a container instance cannot take a task: one named reason per rejected instance, as ECS
// reports them in RunTask `failures[].reason` (RESOURCE:CPU, ATTRIBUTE, AGENT...). The engine
// keeps a small code per instance (a Uint8Array over 5,000 instances is cheap to scan); codes are
// numbered in the order the checks run, so a higher code means the instance passed more checks
// ("closest matching" in ECS's service events).
import { REASON_AGENT, REASON_CPU, REASON_MEMORY, REASON_PORTS } from './fit.js';

export { REASON_AGENT, REASON_CPU, REASON_MEMORY, REASON_PORTS };
export const REASON_GPU = 'RESOURCE:GPU';
/** A memberOf, distinctInstance or requiresAttributes mismatch (ECS uses one reason for all). */
export const REASON_ATTRIBUTE = 'ATTRIBUTE';

/** Check outcomes, in chain order. FITS = 0 so a zeroed array means "not rejected". */
export const Verdict = {
  FITS: 0,
  /** Not ACTIVE: the reason is the status itself (DRAINING, INACTIVE, REGISTERING...). */
  STATUS: 1,
  AGENT: 2,
  CPU: 3,
  MEMORY: 4,
  PORTS: 5,
  GPU: 6,
  REQUIRED_ATTRIBUTE: 7,
  DISTINCT_INSTANCE: 8,
  MEMBER_OF: 9,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** The wire reason of a rejection; STATUS needs the instance's status. */
export function reasonOf(v: Verdict, status: string): string {
  switch (v) {
    case Verdict.FITS:
      return '';
    case Verdict.STATUS:
      return status;
    case Verdict.AGENT:
      return REASON_AGENT;
    case Verdict.CPU:
      return REASON_CPU;
    case Verdict.MEMORY:
      return REASON_MEMORY;
    case Verdict.PORTS:
      return REASON_PORTS;
    case Verdict.GPU:
      return REASON_GPU;
    case Verdict.REQUIRED_ATTRIBUTE:
    case Verdict.DISTINCT_INSTANCE:
    case Verdict.MEMBER_OF:
      return REASON_ATTRIBUTE;
    default: {
      const never: never = v;
      throw new Error(`unknown verdict ${String(never)}`);
    }
  }
}
