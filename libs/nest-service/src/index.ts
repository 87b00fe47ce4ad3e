export {
  startService, collectServiceMetrics, ObservabilityModule, SERVICE_LOGGER, type ServiceOptions, type RunningService,
} from './bootstrap';
export { HealthDetails, Readiness, type ReadinessCheck } from './readiness';
export { PinoNestLogger } from './pino-nest-logger';
export { runService, type RunServiceOptions } from './run-service';
export { BearerAuthentication, BearerRefused, type BearerIdentity } from './bearer-auth';
