/**
 * Test harness: the compiled push service spawned by @hearth/testing's startService (waits for
 * /readyz), with a gRPC client for hearth.push.Push.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from '@hearth/contracts';
import { startService, withClient, type RunningService } from '@hearth/testing';

export interface RunningPush extends RunningService {
  client: PushClient;
}

export async function startPush(env: Record<string, string>): Promise<RunningPush> {
  const service = await startService({ app: 'push', env: { LOG_LEVEL: 'info', ...env } });
  return withClient(service, pushClient(`127.0.0.1:${service.grpcPort}`));
}

export interface EnablePushRequest { actor: string; service: string; node: string; device_token: string; bundle_id: string; environment: string }

export interface PushClient {
  enablePush(request: EnablePushRequest): Promise<{ device_id: string; event_id: string }>;
  disablePush(request: { actor: string; service: string; node?: string }): Promise<{ removed: number }>;
  close(): void;
}

type Unary = (request: object, callback: (error: grpc.ServiceError | null, reply: unknown) => void) => void;

export function pushClient(address: string): PushClient {
  const definition = protoLoader.loadSync(protoPath('push'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    hearth: { push: { Push: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, Unary> } };
  };
  const stub = new loaded.hearth.push.Push(address, grpc.credentials.createInsecure());
  const call = <R>(method: string, request: object) => new Promise<R>((resolve, reject) => {
    stub[method]!.call(stub, request, (error, reply) => {
      if (!error) return resolve(reply as R);
      const condition = error.metadata?.get('hearth-condition')[0];
      reject(Object.assign(error, { condition: condition === undefined ? undefined : String(condition) }));
    });
  });
  return {
    enablePush: (request) => call('EnablePush', request),
    disablePush: (request) => call('DisablePush', { node: '', ...request }),
    close: () => stub.close(),
  };
}
