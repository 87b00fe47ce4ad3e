import 'reflect-metadata';
import { Global, Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { collectDefaultMetrics } from 'prom-client';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { exitWithSupervisor, type Logger } from '@hearth/runtime';
import { ObservabilityController } from './observability.controller';
import { PinoNestLogger } from './pino-nest-logger';
import { HealthDetails, Readiness } from './readiness';

export const SERVICE_LOGGER = Symbol('SERVICE_LOGGER');

export interface ServiceOptions {
  /** The service's name in logs and metrics. */
  name: string;
  /** The service's root module. */
  module: Type<unknown> | DynamicModule;
  logger: Logger;
  http: { host?: string; port: number };
  /** gRPC API served beside HTTP (service-to-service calls from the gateway). */
  grpc?: { package: string | string[]; protoPath: string | string[]; host?: string; port: number };
}

export interface RunningService {
  app: INestApplication;
  httpPort: number;
  grpcPort?: number;
  /** Stops accepting, lets modules drain (consumers commit, sessions close), then resolves. */
  close(): Promise<void>;
}

/**
 * /healthz, /readyz and /metrics, the Readiness registry, HealthDetails and the service logger
 * (SERVICE_LOGGER), for any Nest application. startService imports it; a service that hosts Nest
 * itself (the gateway shares its HTTP server with the WebSocket endpoint) imports it into its own
 * root module and calls collectServiceMetrics.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forService(logger: Logger): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [ObservabilityController],
      providers: [Readiness, HealthDetails, { provide: SERVICE_LOGGER, useValue: logger }],
      exports: [Readiness, HealthDetails, SERVICE_LOGGER],
    };
  }
}

let defaultMetricsCollected = false;

/** Process metrics (CPU, memory, event loop, GC) labelled with the service name; once per process. */
export function collectServiceMetrics(service: string): void {
  if (defaultMetricsCollected) return;
  collectDefaultMetrics({ labels: { service } });
  defaultMetricsCollected = true;
}

/**
 * Starts a service: its module plus /healthz, /readyz and /metrics on the HTTP port, an
 * optional gRPC server, and SIGTERM/SIGINT handling that drains and exits 0.
 */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  collectServiceMetrics(options.name);
  @Module({ imports: [ObservabilityModule.forService(options.logger), options.module] })
  class ServiceRoot {}

  const app = await NestFactory.create(ServiceRoot, { logger: new PinoNestLogger(options.logger), bufferLogs: false });
  let grpcPort: number | undefined;
  if (options.grpc) {
    grpcPort = options.grpc.port;
    app.connectMicroservice<MicroserviceOptions>({
      transport: Transport.GRPC,
      options: {
        package: options.grpc.package,
        protoPath: options.grpc.protoPath,
        url: `${options.grpc.host ?? '0.0.0.0'}:${options.grpc.port}`,
        loader: { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
      },
    });
    await app.startAllMicroservices();
  }
  await app.listen(options.http.port, options.http.host ?? '0.0.0.0');
  const httpPort = ((app.getHttpServer() as Server).address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = () => (closing ??= app.close());
  const shutdown = (reason: string) => {
    options.logger.info({ reason }, 'shutting down: draining before exit');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        options.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  exitWithSupervisor(() => shutdown('supervisor gone'));
  return { app, httpPort, ...(grpcPort === undefined ? {} : { grpcPort }), close };
}
