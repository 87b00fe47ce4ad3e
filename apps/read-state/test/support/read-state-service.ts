/**
 * Test harness: the compiled read-state service spawned by @hearth/testing's startService
 * (waits for /readyz; debug logs, which some tests wait for), with a gRPC client for
 * hearth.read_state.ReadState.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from '@hearth/contracts';
import { startService, withClient, type RunningService } from '@hearth/testing';

export interface RunningReadState extends RunningService {
  client: ReadStateClient;
}

export async function startReadState(env: Record<string, string>): Promise<RunningReadState> {
  const service = await startService({ app: 'read-state', env: { LOG_LEVEL: 'debug', ...env } });
  return withClient(service, readStateClient(`127.0.0.1:${service.grpcPort}`));
}

// --- gRPC client (proto-loader, keepCase as the server) ---

export interface MoveReadPointerRequest { user: string; peer: string; stanza_id?: string; message_id?: string; moved_by: string }
export interface MoveReadPointerReply { moved: boolean; pointer: string; unread: number; total: number }
export interface UnreadReply { total: number; chats: { peer: string; unread: number; pointer: string }[] }
export interface DisplayedItemsReply { items: { peer: string; stanza_id: string; by: string }[] }

export interface ReadStateClient {
  moveReadPointer(request: MoveReadPointerRequest): Promise<MoveReadPointerReply>;
  getUnread(user: string): Promise<UnreadReply>;
  getDisplayedItems(user: string, peers?: string[]): Promise<DisplayedItemsReply>;
  close(): void;
}

/** A gRPC error as grpc-js gives it, with the XMPP condition from the trailers. */
export interface ReadStateCallError extends Error { code: grpc.status; condition?: string }

type Unary = (request: object, callback: (error: grpc.ServiceError | null, reply: unknown) => void) => void;

export function readStateClient(address: string): ReadStateClient {
  const definition = protoLoader.loadSync(protoPath('read-state'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    hearth: { read_state: { ReadState: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, Unary> } };
  };
  const stub = new loaded.hearth.read_state.ReadState(address, grpc.credentials.createInsecure());
  const call = <R>(method: string, request: object) => new Promise<R>((resolve, reject) => {
    stub[method]!.call(stub, request, (error, reply) => {
      if (!error) return resolve(reply as R);
      const condition = error.metadata?.get('hearth-condition')[0];
      reject(Object.assign(error, { condition: condition === undefined ? undefined : String(condition) }));
    });
  });
  return {
    moveReadPointer: (request) => call('MoveReadPointer', request),
    getUnread: (user) => call('GetUnread', { user }),
    getDisplayedItems: (user, peers = []) => call('GetDisplayedItems', { user, peers }),
    close: () => stub.close(),
  };
}
