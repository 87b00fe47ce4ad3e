export { ConfigError, parseConfig, loadConfigOrExit, env } from './config';
export { createLogger, type Logger } from './logger';
export { exitWithSupervisor, isProcessAlive } from './supervision';
