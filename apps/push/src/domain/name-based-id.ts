import { createHash } from 'node:crypto';

/**
 * A name-based UUID (RFC 9562 §5.5, v5 layout over SHA-1) of the given parts: the same parts
 * always give the same id. Used for apns-id (event id × user × device), so a row can never be
 * sent under two ids, and for events the dispatcher may append twice (same id, deduped on apply).
 */
export function nameBasedId(...parts: string[]): string {
  const hash = createHash('sha1').update(parts.join('\u0000')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** apns-id of one event's notification to one device. */
export const apnsIdOf = (eventId: string, user: string, deviceId: string): string => nameBasedId('apns-id', eventId, user, deviceId);
