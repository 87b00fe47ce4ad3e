import { Module, type DynamicModule } from '@nestjs/common';
import { ObservabilityModule } from '@hearth/nest-service';
import type { TlsMaterial } from './transports/listeners';
import { AdminTokenGuard } from './admin/admin-token.guard';
import { AdminController } from './admin/admin.controller';
import { GATEWAY_RUNTIME, type GatewayRuntime } from './gateway-runtime';
import { TLS_MATERIAL, XmppServerService } from './xmpp-server.service';

/** The gateway's Nest application: admin API, /healthz, /readyz, /metrics, and the XMPP listeners' lifecycle. */
@Module({})
export class GatewayModule {
  static forRoot(runtime: GatewayRuntime, tls: TlsMaterial): DynamicModule {
    return {
      module: GatewayModule,
      imports: [ObservabilityModule.forService(runtime.logger)],
      controllers: [AdminController],
      providers: [
        { provide: GATEWAY_RUNTIME, useValue: runtime },
        { provide: TLS_MATERIAL, useValue: tls },
        AdminTokenGuard,
        XmppServerService,
      ],
    };
  }
}
