// The plumber's own process (see plumber-process.ts): attach requests in over IPC, results out.
// It ends with its parent: when the IPC channel closes, nothing is left to answer to.
import { IpCommandPlumber, type AttachRequest } from './plumbing.js';

export interface PlumbRequest {
  id: number;
  req: AttachRequest;
}

export type PlumbAnswer =
  { id: number; ok: true; macAddress: string } | { id: number; ok: false; error: string };

const plumber = new IpCommandPlumber();

process.on('message', (m: PlumbRequest) => {
  plumber.attach(m.req).then(
    (r) => process.send?.({ id: m.id, ok: true, macAddress: r.macAddress } satisfies PlumbAnswer),
    (e: unknown) =>
      process.send?.({ id: m.id, ok: false, error: (e as Error).message } satisfies PlumbAnswer),
  );
});
process.on('disconnect', () => process.exit(0));
