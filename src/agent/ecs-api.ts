// A tiny ECS API client (awsJson1.1 over fetch) for the few calls the agent makes:
// RegisterContainerInstance and, for the `default` cluster, CreateCluster. No AWS SDK: the agent
// must stay small and start fast. Requests are SigV4-signed with the agent's fixed identity; the
// control plane reads the region from the credential scope (and does not check signatures yet).
import { createHash, createHmac } from 'node:crypto';
import type { EcsOperations } from '../generated/ecs/types.js';

export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';
const ACCESS_KEY_ID = 'berth-agent';
const SECRET_ACCESS_KEY = 'berth-agent';
const SERVICE = 'ecs';

/** An error answer of the API, with its wire code (`ClusterNotFoundException`, ...). */
export class EcsApiError extends Error {
  override readonly name = 'EcsApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface EcsApiOptions {
  endpoint: string;
  region: string;
  /** Per-call time budget. */
  timeoutMs?: number;
  /** For signatures; tests pass a fixed time. */
  now?: () => number;
}

export class EcsApiClient {
  private readonly url: URL;
  constructor(private readonly opts: EcsApiOptions) {
    this.url = new URL(opts.endpoint);
  }

  async call<Op extends keyof EcsOperations>(
    operation: Op,
    input: EcsOperations[Op]['input'],
  ): Promise<EcsOperations[Op]['output']> {
    const body = JSON.stringify(input);
    const target = `${ECS_TARGET_PREFIX}.${operation}`;
    const headers = signedHeaders({
      host: this.url.host,
      path: this.url.pathname || '/',
      target,
      body,
      region: this.opts.region,
      now: this.opts.now?.() ?? Date.now(),
    });
    const res = await fetch(this.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    if (text !== '') {
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new EcsApiError(
          'SerializationException',
          `unreadable answer (HTTP ${res.status}): ${text.slice(0, 200)}`,
          res.status,
        );
      }
    }
    if (!res.ok) {
      const type = typeof json.__type === 'string' ? json.__type : `HTTP${res.status}`;
      const code = type.includes('#') ? type.slice(type.lastIndexOf('#') + 1) : type;
      const message =
        typeof json.message === 'string' ? json.message : ((json.Message as string | undefined) ?? text);
      throw new EcsApiError(code, message, res.status);
    }
    return json as EcsOperations[Op]['output'];
  }
}

export interface SigningInput {
  host: string;
  path: string;
  target: string;
  body: string;
  region: string;
  /** Epoch ms. */
  now: number;
}

const sha256hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string): Buffer =>
  createHmac('sha256', key).update(s, 'utf8').digest();

/** The request headers with a SigV4 Authorization (service `ecs`, scope `<date>/<region>/ecs/aws4_request`). */
export function signedHeaders(i: SigningInput): Record<string, string> {
  const amzDate = new Date(i.now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: i.host,
    'x-amz-date': amzDate,
    'x-amz-target': i.target,
  };
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers[n]!.trim()}\n`).join('');
  const signed = names.join(';');
  const canonicalRequest = ['POST', i.path, '', canonicalHeaders, signed, sha256hex(i.body)].join('\n');
  const scope = `${date}/${i.region}/${SERVICE}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${SECRET_ACCESS_KEY}`, date), i.region), SERVICE), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  const { host: _host, ...sent } = headers;
  return {
    ...sent,
    authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/${scope}, SignedHeaders=${signed}, Signature=${signature}`,
  };
}
