import { z } from 'zod';
import { defineEvent } from '../registry';
import { topics } from '../topics';
import { anyJid, bareJid } from './fields';

/**
 * A device registered for APNs: XEP-0357 enable (the gateway, for the full JID that enabled it)
 * or the product backend over HTTP (optionally naming the resource the device's app binds).
 * A new registration of the same (user, deviceId) replaces the previous one.
 */
export const PushDeviceRegistered = defineEvent('PushDeviceRegistered', 1, topics.push, z.object({
  user: bareJid,
  deviceId: z.string().min(1).max(256),
  deviceToken: z.string().regex(/^[0-9a-fA-F]{16,200}$/, 'must be a hex APNs device token'),
  bundleId: z.string().min(1).max(255),
  environment: z.enum(['production', 'sandbox']),
  /** XEP-0357: the app server JID and node the client named. */
  pushService: anyJid.optional(),
  pushNode: z.string().max(1024).optional(),
  /**
   * The resource whose session makes the device "active" (no push while it is bound and not
   * hibernated): the resource that sent the XEP-0357 enable, or the one the backend named.
   * Absent: the device is never considered active, so it gets every push.
   */
  resource: z.string().min(1).max(1023).optional(),
  /** Who registered it: the gateway for a XEP-0357 enable, or the HTTP API. */
  via: z.enum(['xep-0357', 'http']).optional(),
}));
export const PushDeviceUnregistered = defineEvent('PushDeviceUnregistered', 1, topics.push, z.object({
  user: bareJid,
  deviceId: z.string().min(1).max(256),
  reason: z.enum(['client-disabled', 'backend-removed', 'apns-unregistered', 'apns-bad-token', 'account-deleted']),
  /**
   * The registration (the PushDeviceRegistered event id) this removes. Set when APNs rejected
   * its token, so a failure reported late never removes a newer registration of the device.
   */
  registrationId: z.uuid().optional(),
}));
