import { createHash } from 'node:crypto';
import type { PayloadOf, PushDeviceRegistered, PushDeviceUnregistered } from '@hearth/contracts';
import { PushError } from './push.errors';

/**
 * Device registrations: XEP-0357 enable/disable from the gateway and the product backend's
 * HTTP API, checked and turned into PushDeviceRegistered / PushDeviceUnregistered. Pure.
 */
export type Registered = PayloadOf<typeof PushDeviceRegistered>;
export type Unregistered = PayloadOf<typeof PushDeviceUnregistered>;
export type Environment = Registered['environment'];

const BARE_JID = /^[^@/\s]+@[^@/\s]+$/;
const FULL_JID = /^([^@/\s]+@[^@/\s]+)\/(.+)$/;
const ANY_JID = /^[^\s/]+(\/.+)?$/;
const DEVICE_TOKEN = /^[0-9a-fA-F]{64,200}$/;
const BUNDLE_ID = /^[A-Za-z0-9.-]{1,255}$/;
const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ENVIRONMENTS: readonly Environment[] = ['production', 'sandbox'];
const MAX_NODE_LENGTH = 1024;

/** The APNs fields every registration carries (the XEP-0357 publish-options form, or the HTTP body). */
export interface ApnsTarget {
  deviceToken: string;
  bundleId: string;
  environment: string;
}

function checkTarget(target: ApnsTarget): Pick<Registered, 'deviceToken' | 'bundleId' | 'environment'> {
  if (!DEVICE_TOKEN.test(target.deviceToken)) throw new PushError('bad-request', 'device_token must be the APNs device token in hex (64 hex digits or more)');
  if (!BUNDLE_ID.test(target.bundleId)) throw new PushError('bad-request', 'bundle_id must be the app\'s bundle id (the apns-topic)');
  if (!ENVIRONMENTS.includes(target.environment as Environment)) throw new PushError('bad-request', `environment must be one of ${ENVIRONMENTS.join(', ')}`);
  return { deviceToken: target.deviceToken.toLowerCase(), bundleId: target.bundleId, environment: target.environment as Environment };
}

/** The full JID the gateway authenticated, split; refused if it is not a full JID of a hosted domain. */
export function parseActor(actor: string, domains: readonly string[]): { user: string; resource: string } {
  const match = FULL_JID.exec(actor);
  if (!match) throw new PushError('jid-malformed', `actor must be the session's full JID, got ${JSON.stringify(actor)}`);
  const user = match[1]!.toLowerCase();
  checkHosted(user, domains);
  return { user, resource: match[2]! };
}

export function checkUser(user: string, domains: readonly string[]): string {
  if (!BARE_JID.test(user)) throw new PushError('jid-malformed', `user must be a bare JID, got ${JSON.stringify(user)}`);
  const lower = user.toLowerCase();
  checkHosted(lower, domains);
  return lower;
}

function checkHosted(user: string, domains: readonly string[]): void {
  const domain = user.slice(user.indexOf('@') + 1);
  if (!domains.includes(domain)) throw new PushError('forbidden', `${domain} is not a domain this server hosts`);
}

/**
 * The device id of a XEP-0357 registration: derived from the app server JID and node, so enabling
 * the same (jid, node) again replaces the registration instead of adding a second device.
 */
export function xep0357DeviceId(service: string, node: string): string {
  return `xep0357-${createHash('sha256').update(`${service}\u0000${node}`).digest('hex').slice(0, 32)}`;
}

export interface EnablePush extends ApnsTarget {
  actor: string;
  service: string;
  node: string;
}

/** XEP-0357 §5 enable → PushDeviceRegistered, tied to the actor's resource. */
export function decideEnable(command: EnablePush, domains: readonly string[]): Registered {
  const { user, resource } = parseActor(command.actor, domains);
  if (!ANY_JID.test(command.service)) throw new PushError('jid-malformed', 'the enable element needs the push service\'s jid');
  if (!command.node || command.node.length > MAX_NODE_LENGTH) throw new PushError('bad-request', 'XEP-0357 §5: the enable element needs a node');
  return {
    user, deviceId: xep0357DeviceId(command.service, command.node), ...checkTarget(command),
    pushService: command.service, pushNode: command.node, resource, via: 'xep-0357',
  };
}

/** A registration as the projection knows it (the part disable needs). */
export interface KnownRegistration {
  deviceId: string;
  pushService: string | null;
  pushNode: string | null;
}

/** XEP-0357 §6 disable: every registration of the user with that service (and node, if given). */
export function decideDisable(
  command: { actor: string; service: string; node?: string }, registrations: readonly KnownRegistration[], domains: readonly string[],
): Unregistered[] {
  const { user } = parseActor(command.actor, domains);
  if (!ANY_JID.test(command.service)) throw new PushError('jid-malformed', 'the disable element needs the push service\'s jid');
  return registrations
    .filter((r) => r.pushService === command.service && (!command.node || r.pushNode === command.node))
    .map((r) => ({ user, deviceId: r.deviceId, reason: 'client-disabled' as const }));
}

export interface RegisterDevice extends ApnsTarget {
  user: string;
  deviceId: string;
  resource?: string;
}

/** The product backend's PUT /users/{jid}/devices/{deviceId}. */
export function decideRegister(command: RegisterDevice, domains: readonly string[]): Registered {
  const user = checkUser(command.user, domains);
  if (!DEVICE_ID.test(command.deviceId)) throw new PushError('bad-request', 'deviceId: 1 to 128 of A-Z a-z 0-9 . _ : -');
  if (command.resource !== undefined && (command.resource.length === 0 || command.resource.length > 1023)) {
    throw new PushError('bad-request', 'resource must be 1 to 1023 characters');
  }
  return { user, deviceId: command.deviceId, ...checkTarget(command), ...(command.resource ? { resource: command.resource } : {}), via: 'http' };
}
