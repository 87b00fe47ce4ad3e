import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';
import { register } from 'prom-client';
import { HealthDetails, Readiness } from './readiness';

@Controller()
export class ObservabilityController {
  constructor(private readonly readiness: Readiness, private readonly details: HealthDetails) {}

  /** Liveness: the process answers (with whatever details the service registered). */
  @Get('healthz')
  @HttpCode(200)
  health() {
    return { status: 'ok', ...this.details.snapshot() };
  }

  /** Readiness: its database and broker are reachable and its consumer has joined. */
  @Get('readyz')
  async ready(@Res() response: Response) {
    const report = await this.readiness.report();
    response.status(report.ready ? 200 : 503).json(report);
  }

  @Get('metrics')
  @Header('Content-Type', register.contentType)
  metrics() {
    return register.metrics();
  }
}
