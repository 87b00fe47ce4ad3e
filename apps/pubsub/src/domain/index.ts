export * from './decide';
export * from './jid';
export * from './node-config';
export * from './node-state';
export * from './payload';
export * from './pubsub-error';
