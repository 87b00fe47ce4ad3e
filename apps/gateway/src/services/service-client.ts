import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from '@hearth/contracts';
import { STANZA_ERROR_TYPES, StanzaError, type StanzaErrorCondition } from '../stream/errors';

/** How long the gateway waits for a backing service before answering the client with an error. */
const DEFAULT_DEADLINE_MS = 5_000;

/** gRPC status → the stanza error a client gets (RFC 6120 §8.3.3) when a service names no condition. */
const CONDITION_BY_STATUS: Partial<Record<grpc.status, StanzaErrorCondition>> = {
  [grpc.status.NOT_FOUND]: 'item-not-found',
  [grpc.status.INVALID_ARGUMENT]: 'bad-request',
  [grpc.status.PERMISSION_DENIED]: 'forbidden',
  [grpc.status.UNAUTHENTICATED]: 'not-authorized',
  [grpc.status.ALREADY_EXISTS]: 'conflict',
  [grpc.status.FAILED_PRECONDITION]: 'conflict',
  [grpc.status.RESOURCE_EXHAUSTED]: 'resource-constraint',
  [grpc.status.UNIMPLEMENTED]: 'feature-not-implemented',
  [grpc.status.UNAVAILABLE]: 'service-unavailable',
  [grpc.status.DEADLINE_EXCEEDED]: 'remote-server-timeout',
};

/** A failed call, with what the service said: its status, and its `hearth-condition` trailer if any. */
export class ServiceCallError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
    /** The XMPP condition the service named (trailer `hearth-condition`), when it did. */
    readonly condition: string | undefined,
  ) {
    super(details);
    this.name = 'ServiceCallError';
  }

  /** The stanza error to answer the client with; the detail text only when the service chose the condition. */
  toStanzaError(): StanzaError {
    const named = this.condition !== undefined && this.condition in STANZA_ERROR_TYPES ? (this.condition as StanzaErrorCondition) : undefined;
    const condition = named ?? CONDITION_BY_STATUS[this.code] ?? 'internal-server-error';
    const text = named || this.code === grpc.status.INVALID_ARGUMENT || this.code === grpc.status.NOT_FOUND ? this.details : undefined;
    return new StanzaError(condition, text);
  }
}

/**
 * A client of one backing service's gRPC API (libs/contracts/proto/<name>.proto), with promise
 * calls and a deadline on each. Modules keep the XML ↔ message mapping; this keeps the plumbing.
 *
 *   const archive = new ServiceClient('archive', 'Archive', config.HEARTH_ARCHIVE_GRPC_URL);
 *   const page = await archive.request<QueryResponse>('Query', request); // failures: StanzaError
 */
export class ServiceClient {
  private readonly client: grpc.Client;

  constructor(proto: string, service: string, url: string) {
    const definition = protoLoader.loadSync(protoPath(proto), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const pkg = proto.replace(/-/g, '_');
    const namespace = (grpc.loadPackageDefinition(definition) as unknown as { hearth: Record<string, Record<string, grpc.ServiceClientConstructor>> }).hearth[pkg];
    const Client = namespace?.[service];
    if (!Client) throw new Error(`no service hearth.${pkg}.${service} in ${protoPath(proto)}`);
    this.client = new Client(url.replace(/^grpc:\/\//, ''), grpc.credentials.createInsecure());
  }

  call<Response>(method: string, request: object, deadlineMs = DEFAULT_DEADLINE_MS): Promise<Response> {
    const fn = (this.client as unknown as Record<string, grpc.requestCallback<Response> | undefined>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`no gRPC method ${method}`));
    return new Promise<Response>((resolve, reject) => {
      (fn as unknown as (req: object, meta: grpc.Metadata, opts: grpc.CallOptions, cb: grpc.requestCallback<Response>) => void).call(
        this.client, request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs },
        (error: grpc.ServiceError | null, response?: Response) => {
          if (error) {
            const condition = error.metadata?.get('hearth-condition')[0];
            reject(new ServiceCallError(error.code, error.details, condition === undefined ? undefined : String(condition)));
          } else resolve(response as Response);
        },
      );
    });
  }

  /** Like `call`, for IQ handlers: a failure becomes the StanzaError to answer the client with. */
  async request<Response>(method: string, request: object, deadlineMs = DEFAULT_DEADLINE_MS): Promise<Response> {
    try {
      return await this.call<Response>(method, request, deadlineMs);
    } catch (error) {
      throw error instanceof ServiceCallError ? error.toStanzaError() : error;
    }
  }

  close(): void {
    this.client.close();
  }
}
