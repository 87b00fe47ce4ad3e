export { startService, SERVICE_LOGGER, type ServiceOptions, type RunningService } from './bootstrap';
export { Readiness, type ReadinessCheck } from './readiness';
