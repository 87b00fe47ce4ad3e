import { Catch, Controller, UseFilters, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { PushError } from '../domain/push.errors';
import { PushRegistrations } from '../push-registrations.service';
import { toRpcException } from './error-mapping';

// Shapes of libs/contracts/proto/push.proto (proto-loader keepCase: snake_case fields).
interface EnablePushRequest { actor: string; service: string; node: string; device_token: string; bundle_id: string; environment: string }
interface DisablePushRequest { actor: string; service: string; node: string }

/** Typed errors become gRPC statuses with the XMPP condition in the trailers. */
@Catch(PushError)
class PushRpcFilter implements RpcExceptionFilter<PushError> {
  catch(error: PushError, _host: ArgumentsHost): Observable<never> {
    return throwError(() => toRpcException(error.condition, error.message).getError());
  }
}

/** gRPC API `hearth.push.Push`, called by the gateway's XEP-0357 module. */
@Controller()
@UseFilters(new PushRpcFilter())
export class PushGrpcController {
  constructor(private readonly registrations: PushRegistrations) {}

  @GrpcMethod('Push', 'EnablePush')
  async enablePush(request: EnablePushRequest): Promise<{ device_id: string; event_id: string }> {
    const { deviceId, eventId } = await this.registrations.enable({
      actor: request.actor, service: request.service, node: request.node,
      deviceToken: request.device_token, bundleId: request.bundle_id, environment: request.environment,
    });
    return { device_id: deviceId, event_id: eventId };
  }

  @GrpcMethod('Push', 'DisablePush')
  async disablePush(request: DisablePushRequest): Promise<{ removed: number }> {
    const removed = await this.registrations.disable({ actor: request.actor, service: request.service, ...(request.node ? { node: request.node } : {}) });
    return { removed };
  }
}
