import { Controller, Get, Inject } from '@nestjs/common';
import { GATEWAY_RUNTIME, type GatewayRuntime } from './gateway-runtime';

/** Liveness and a session count; replaced by @hearth/nest-service's /healthz, /readyz and /metrics when it lands. */
@Controller()
export class HealthController {
  constructor(@Inject(GATEWAY_RUNTIME) private readonly runtime: GatewayRuntime) {}

  @Get('healthz')
  health(): { status: 'ok'; sessions: number; connections: number } {
    const { router, sessions } = this.runtime.core;
    return { status: 'ok', sessions: sessions.size, connections: router.connections.size };
  }
}
