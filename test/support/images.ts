// Test images built on this machine, since nothing can be pulled from the internet here:
// `berth-test/busybox:latest` = FROM scratch + Debian's static busybox with its applets installed
// (sh, sleep, nc, httpd, ...). Building is idempotent and skipped when the image exists.
// Also a tiny in-process registry (Docker Registry HTTP API v2, read-only) serving that image,
// so pull paths (success, auth, missing manifests) are tested against 127.0.0.1 only.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Dockerode from 'dockerode';

export const busyboxImage = 'berth-test/busybox:latest';
const busyboxPath = '/bin/busybox';

const dockerfile = `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
LABEL org.berth.test="busybox"
CMD ["sh"]
`;

let building: Promise<EnsureResult> | undefined;

export interface EnsureResult {
  imageId: string;
  /** False when the image already existed. */
  built: boolean;
}

/** Builds berth-test/busybox:latest unless present. Safe to call from many tests at once. */
export function ensureBusyboxImage(docker: Dockerode = new Dockerode()): Promise<EnsureResult> {
  building ??= buildIfMissing(docker).finally(() => {
    building = undefined;
  });
  return building;
}

async function buildIfMissing(docker: Dockerode): Promise<EnsureResult> {
  const existing = await imageId(docker, busyboxImage);
  if (existing) return { imageId: existing, built: false };
  const context = tar([
    { name: 'Dockerfile', mode: 0o644, data: Buffer.from(dockerfile) },
    { name: 'busybox', mode: 0o755, data: await readFile(busyboxPath) },
  ]);
  // The legacy builder (API default) needs no BuildKit session; `rm` drops the RUN container.
  const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
    t: busyboxImage,
    rm: true,
    forcerm: true,
  });
  const output = await new Promise<{ error?: string; errorDetail?: { message?: string } }[]>(
    (resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, res: unknown[]) =>
        err ? reject(err) : resolve(res as { error?: string }[]),
      ),
  );
  const failure = output.find((o) => o.error || o.errorDetail);
  if (failure)
    throw new Error(`building ${busyboxImage} failed: ${failure.errorDetail?.message ?? failure.error}`);
  const id = await imageId(docker, busyboxImage);
  if (!id) throw new Error(`building ${busyboxImage} produced no image`);
  return { imageId: id, built: true };
}

async function imageId(docker: Dockerode, ref: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// A minimal ustar writer: enough for a build context of regular files.

export interface TarEntry {
  name: string;
  mode: number;
  data: Buffer;
}

export function tar(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    if (Buffer.byteLength(e.name) > 100) throw new Error(`tar entry name too long: ${e.name}`);
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    writeOctal(h, 100, 8, e.mode);
    writeOctal(h, 108, 8, 0); // uid
    writeOctal(h, 116, 8, 0); // gid
    writeOctal(h, 124, 12, e.data.length);
    writeOctal(h, 136, 12, 0); // mtime: fixed, so the same files give the same layer digest
    h.fill(' ', 148, 156); // checksum is computed with its own field as spaces
    h.write('0', 156); // regular file
    h.write('ustar\u000000', 257, 8, 'binary');
    h.write('root', 265);
    h.write('root', 297);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'binary');
    blocks.push(h, e.data);
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad > 0) blocks.push(Buffer.alloc(pad));
  }
  blocks.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(blocks);
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'binary');
}

// ---------------------------------------------------------------------------------------------
// A read-only registry on 127.0.0.1 (Docker treats 127.0.0.0/8 as insecure: plain HTTP is fine).

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  /** Every request the registry saw, in order. */
  requests: { method: string; url: string; authorized: boolean }[];
  close(): Promise<void>;
}

export interface TestRegistryOptions {
  /** Repository paths served with tag `latest` (the busybox image). */
  repositories: string[];
  /** When set, every /v2/ request needs these Basic credentials. */
  credentials?: { username: string; password: string };
  /** Never answer blob requests: a pull that stops making progress. */
  stallBlobs?: boolean;
}

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function startTestRegistry(options: TestRegistryOptions): Promise<TestRegistry> {
  // One layer: the busybox binary plus the applet links the image build makes (a layer needs no
  // links to run `busybox <applet>`, but sh and friends are resolved by name).
  const layer = tar([{ name: 'bin/busybox', mode: 0o755, data: await readFile(busyboxPath) }]);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Entrypoint: ['/bin/busybox'], Cmd: ['sh'], Labels: { 'org.berth.test': 'registry' } },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
      history: [{ created_by: 'berth test registry' }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: sha256(config),
      },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar',
          size: layer.length,
          digest: sha256(layer),
        },
      ],
    }),
  );
  const blobs = new Map([
    [sha256(config), config],
    [sha256(layer), layer],
  ]);
  const requests: TestRegistry['requests'] = [];
  const expectedAuth = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`
    : undefined;

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const authorized = expectedAuth === undefined || req.headers.authorization === expectedAuth;
    requests.push({ method: req.method ?? 'GET', url, authorized });
    const send = (status: number, body: Buffer | string, headers: Record<string, string> = {}): void => {
      const b = typeof body === 'string' ? Buffer.from(body) : body;
      res.writeHead(status, {
        'Content-Length': String(b.length),
        'Docker-Distribution-API-Version': 'registry/2.0',
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : b);
    };
    const error = (status: number, code: string, message: string): void =>
      send(status, JSON.stringify({ errors: [{ code, message, detail: null }] }), {
        'Content-Type': 'application/json',
        ...(status === 401 ? { 'WWW-Authenticate': 'Basic realm="berth-test"' } : {}),
      });
    if (!authorized) return error(401, 'UNAUTHORIZED', 'authentication required');
    if (url === '/v2/' || url === '/v2') return send(200, '{}', { 'Content-Type': 'application/json' });
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url);
    if (!m) return error(404, 'NOT_FOUND', 'not found');
    const [, repo, kind, ref] = m as unknown as [string, string, string, string];
    if (!options.repositories.includes(repo))
      return error(404, 'NAME_UNKNOWN', 'repository name not known to registry');
    if (kind === 'manifests') {
      if (ref !== 'latest' && ref !== sha256(manifest))
        return error(404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      return send(200, manifest, {
        'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json',
        'Docker-Content-Digest': sha256(manifest),
      });
    }
    if (options.stallBlobs) return; // left hanging until close() drops the connection
    const blob = blobs.get(ref);
    if (!blob) return error(404, 'BLOB_UNKNOWN', 'blob unknown to registry');
    return send(200, blob, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': ref });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
