export { type Envelope, type EventMetadata } from './envelope';
export {
  ContractViolation, createEvent, decodeEvent, defineEvent, encodeEvent, isEvent, registeredEvents, topicOf,
  type EventContract, type EventOf, type PayloadOf,
} from './registry';
export { topics, type Topic } from './topics';
export { chatKeyOf, newStanzaId } from './events/fields';
export * from './events/accounts';
export * from './events/sessions';
export * from './events/messages';
export * from './events/archive';
export * from './events/read-state';
export * from './events/pubsub';
export * from './events/push';
export { protoDir, protoPath } from './proto';
