import { Module, type DynamicModule } from '@nestjs/common';
import type { TlsMaterial } from './transports/listeners';
import { AdminTokenGuard } from './admin/admin-token.guard';
import { AdminController } from './admin/admin.controller';
import { HealthController } from './health.controller';
import { GATEWAY_RUNTIME, type GatewayRuntime } from './gateway-runtime';
import { TLS_MATERIAL, XmppServerService } from './xmpp-server.service';

/** The gateway's Nest application: admin API, health, and the XMPP listeners' lifecycle. */
@Module({})
export class GatewayModule {
  static forRoot(runtime: GatewayRuntime, tls: TlsMaterial): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [AdminController, HealthController],
      providers: [
        { provide: GATEWAY_RUNTIME, useValue: runtime },
        { provide: TLS_MATERIAL, useValue: tls },
        AdminTokenGuard,
        XmppServerService,
      ],
    };
  }
}
