import {
  Body, Catch, Controller, Delete, Get, Headers, HttpCode, Param, Put, UseFilters, type ArgumentsHost, type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { PushError } from '../domain/push.errors';
import { PushRegistrations, type DeviceView } from '../push-registrations.service';
import { toProblem } from './error-mapping';
import { HttpAuth } from './http-auth';

/** Typed errors become RFC 9457 problem responses. */
@Catch(PushError)
class PushHttpFilter implements ExceptionFilter<PushError> {
  catch(error: PushError, host: ArgumentsHost): void {
    const { status, body } = toProblem(error.condition, error.message);
    host.switchToHttp().getResponse<Response>().status(status).type('application/problem+json').send(JSON.stringify(body));
  }
}

const registerBody = z.object({
  deviceToken: z.string(),
  bundleId: z.string(),
  environment: z.string(),
  /** The resource the device's app binds: no push while that session is active. */
  resource: z.string().optional(),
}).strict();

/** HTTP API for the product backend (see README.md). */
@Controller('users/:user/devices')
@UseFilters(new PushHttpFilter())
export class PushHttpController {
  constructor(private readonly registrations: PushRegistrations, private readonly auth: HttpAuth) {}

  /** GET /users/{jid}/devices → [{ deviceId, bundleId, environment, resource, ..., tokenSuffix }] */
  @Get()
  async list(@Param('user') user: string, @Headers('authorization') authorization?: string): Promise<DeviceView[]> {
    await this.auth.authorize(authorization, user);
    return this.registrations.devices(user);
  }

  /** PUT /users/{jid}/devices/{deviceId} { deviceToken, bundleId, environment, resource? } → { deviceId, registrationId } */
  @Put(':deviceId')
  async register(
    @Param('user') user: string, @Param('deviceId') deviceId: string, @Body() body: unknown, @Headers('authorization') authorization?: string,
  ): Promise<{ deviceId: string; registrationId: string }> {
    await this.auth.authorize(authorization, user);
    const parsed = registerBody.safeParse(body);
    if (!parsed.success) {
      throw new PushError('bad-request', `body must be {"deviceToken", "bundleId", "environment", "resource"?}: ${parsed.error.issues[0]!.message}`);
    }
    const { resource, ...target } = parsed.data;
    return this.registrations.register({ user, deviceId, ...target, ...(resource === undefined ? {} : { resource }) });
  }

  /** DELETE /users/{jid}/devices/{deviceId} → 204 */
  @Delete(':deviceId')
  @HttpCode(204)
  async remove(@Param('user') user: string, @Param('deviceId') deviceId: string, @Headers('authorization') authorization?: string): Promise<void> {
    await this.auth.authorize(authorization, user);
    await this.registrations.remove(user, deviceId);
  }
}
