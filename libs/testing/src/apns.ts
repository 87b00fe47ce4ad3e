/**
 * A local APNs endpoint for tests and benchmarks: an HTTP/2 TLS server (self-signed certificate)
 * that checks what Apple's provider API checks and records every request.
 *
 *   const apns = await startApnsServer({ topics: ['com.example.chat'] });
 *   // point the service at it: HEARTH_APNS_ENDPOINT=127.0.0.1:<apns.port>, HEARTH_APNS_KEY_FILE=apns.keyFile,
 *   // HEARTH_APNS_KEY_ID=apns.keyId, HEARTH_APNS_TEAM_ID=apns.teamId, and trust apns.certificate (or skip verification)
 *   apns.failNext(1, { status: 500, reason: 'InternalServerError' });
 *   apns.respondForToken(token, { status: 410, reason: 'Unregistered' });
 *   await apns.waitFor((r) => r.accepted && r.deviceToken === token);
 *   after(() => apns.stop());
 *
 * What is checked, per "Sending notification requests to APNs" and "Handling notification
 * responses from APNs" (developer.apple.com/documentation/usernotifications):
 * - `POST /3/device/<hex token>` (BadPath, MethodNotAllowed, BadDeviceToken);
 * - token authentication: `authorization: bearer <JWT>`, ES256, `kid` header = the key id,
 *   `iss` = the team id, `iat` not older than one hour (MissingProviderToken,
 *   InvalidProviderToken, ExpiredProviderToken);
 * - `apns-topic` present and one of the app's topics (MissingTopic, TopicDisallowed);
 * - `apns-push-type` one of Apple's types; `background` needs priority 5 and an aps with only
 *   content-available (InvalidPushType, BadPriority);
 * - `apns-priority` 1, 5 or 10; `apns-id` a UUID; `apns-collapse-id` at most 64 bytes;
 *   `apns-expiration` a number (BadPriority, BadMessageId, BadCollapseId, BadExpirationDate);
 * - the payload: at most 4096 bytes (413 PayloadTooLarge), a JSON object with an `aps` object
 *   whose standard keys have their documented types (PayloadEmpty, and `BadPayload`: a reason of
 *   this server only, for a payload Apple would refuse or mis-render).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, importSPKI, jwtVerify, type CryptoKey as JoseKey } from 'jose';
import { generate } from 'selfsigned';

/** APNs' payload limit for every push type but VoIP (bytes). */
export const APNS_MAX_PAYLOAD_BYTES = 4096;
/** A provider token older than this is refused (ExpiredProviderToken). */
const PROVIDER_TOKEN_MAX_AGE_SECONDS = 3600;
const PUSH_TYPES = ['alert', 'background', 'location', 'voip', 'complication', 'fileprovider', 'mdm', 'liveactivity', 'pushtotalk', 'widgets'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEVICE_TOKEN = /^[0-9a-f]{64,200}$/i;

export interface ApnsReply {
  status: number;
  reason?: string;
  /** For 410: when APNs learned the token is no longer valid (ms since epoch). */
  timestamp?: number;
}

/** One request as the server saw it, and what it answered. */
export interface ApnsRequest {
  receivedAt: number;
  deviceToken: string;
  apnsId: string;
  topic?: string;
  pushType?: string;
  priority?: string;
  collapseId?: string;
  expiration?: string;
  /** The parsed JSON body (undefined if it was not JSON). */
  payload?: { aps?: Record<string, unknown> } & Record<string, unknown>;
  bytes: number;
  status: number;
  reason?: string;
  /** True when the answer was 200: Apple accepted the notification. */
  accepted: boolean;
}

export interface StartApnsOptions {
  /** The app's topics (bundle ids); a request for another topic gets TopicDisallowed. */
  topics: string[];
  teamId?: string;
  keyId?: string;
}

export interface RunningApns {
  readonly port: number;
  /** `127.0.0.1:<port>`, for HEARTH_APNS_ENDPOINT. */
  readonly endpoint: string;
  /** The server's self-signed certificate (PEM), to trust instead of disabling verification. */
  readonly certificate: string;
  /** The provider key as Apple hands it out (a PKCS#8 `.p8` PEM file), with its ids. */
  readonly keyFile: string;
  readonly keyId: string;
  readonly teamId: string;
  /** Every request so far, in arrival order. */
  readonly requests: ApnsRequest[];
  /** Only the accepted ones. */
  accepted(): ApnsRequest[];
  /** The next `count` requests that pass the checks get this answer instead of 200. */
  failNext(count: number, reply: ApnsReply): void;
  /** Every request for this device token gets this answer (until `clearRules`). */
  respondForToken(deviceToken: string, reply: ApnsReply): void;
  /** Delays every answer (to keep requests in flight, e.g. for a crash test). */
  setResponseDelay(ms: number): void;
  clearRules(): void;
  /** Resolves with the first request (already received or later) that matches. */
  waitFor(match: (request: ApnsRequest) => boolean, what?: string, timeoutMs?: number): Promise<ApnsRequest>;
  stop(): Promise<void>;
}

class Refusal {
  constructor(readonly status: number, readonly reason: string) {}
}

export async function startApnsServer(options: StartApnsOptions): Promise<RunningApns> {
  const teamId = options.teamId ?? 'TEAM123456';
  const keyId = options.keyId ?? 'KEY1234567';
  const topics = new Set(options.topics);
  const dir = mkdtempSync(join(tmpdir(), 'hearth-apns-'));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyFile = join(dir, `AuthKey_${keyId}.p8`);
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const verifyKey: JoseKey = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'ES256');
  const pems = await generate([{ name: 'commonName', value: 'api.sandbox.push.apple.com' }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notAfterDate: new Date(Date.now() + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });

  const requests: ApnsRequest[] = [];
  const waiters = new Set<(request: ApnsRequest) => void>();
  let failures: { remaining: number; reply: ApnsReply } | undefined;
  const byToken = new Map<string, ApnsReply>();
  let delayMs = 0;

  async function check(headers: http2.IncomingHttpHeaders, body: Buffer): Promise<{ token: string; payload: ApnsRequest['payload'] }> {
    if (headers[':method'] !== 'POST') throw new Refusal(405, 'MethodNotAllowed');
    const path = /^\/3\/device\/([^/]*)$/.exec(String(headers[':path']));
    if (!path) throw new Refusal(404, 'BadPath');
    const token = path[1]!;
    if (!token) throw new Refusal(400, 'MissingDeviceToken');
    if (!DEVICE_TOKEN.test(token)) throw new Refusal(400, 'BadDeviceToken');

    const authorization = String(headers.authorization ?? '');
    const jwt = /^bearer (\S+)$/i.exec(authorization)?.[1];
    if (!jwt) throw new Refusal(403, 'MissingProviderToken');
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(jwt).kid;
    } catch {
      throw new Refusal(403, 'InvalidProviderToken');
    }
    if (kid !== keyId) throw new Refusal(403, 'InvalidProviderToken');
    try {
      const { payload } = await jwtVerify(jwt, verifyKey, { algorithms: ['ES256'], issuer: teamId });
      if (typeof payload.iat !== 'number') throw new Refusal(403, 'InvalidProviderToken');
      if (Date.now() / 1000 - payload.iat > PROVIDER_TOKEN_MAX_AGE_SECONDS) throw new Refusal(403, 'ExpiredProviderToken');
    } catch (error) {
      if (error instanceof Refusal) throw error;
      throw new Refusal(403, 'InvalidProviderToken');
    }

    const topic = headers['apns-topic'];
    if (!topic) throw new Refusal(400, 'MissingTopic');
    if (!topics.has(String(topic))) throw new Refusal(400, 'TopicDisallowed');
    const pushType = String(headers['apns-push-type'] ?? '');
    if (!PUSH_TYPES.includes(pushType)) throw new Refusal(400, 'InvalidPushType');
    const priority = headers['apns-priority'] === undefined ? '10' : String(headers['apns-priority']);
    if (!['1', '5', '10'].includes(priority)) throw new Refusal(400, 'BadPriority');
    if (pushType === 'background' && priority !== '5') throw new Refusal(400, 'BadPriority');
    const id = headers['apns-id'];
    if (id !== undefined && !UUID.test(String(id))) throw new Refusal(400, 'BadMessageId');
    const collapseId = headers['apns-collapse-id'];
    if (collapseId !== undefined && Buffer.byteLength(String(collapseId)) > 64) throw new Refusal(400, 'BadCollapseId');
    const expiration = headers['apns-expiration'];
    if (expiration !== undefined && !/^\d+$/.test(String(expiration))) throw new Refusal(400, 'BadExpirationDate');

    if (body.length === 0) throw new Refusal(400, 'PayloadEmpty');
    if (body.length > APNS_MAX_PAYLOAD_BYTES) throw new Refusal(413, 'PayloadTooLarge');
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      throw new Refusal(400, 'BadPayload');
    }
    checkPayload(payload, pushType);
    return { token, payload: payload as ApnsRequest['payload'] };
  }

  const server = http2.createSecureServer({ key: pems.private, cert: pems.cert, allowHTTP1: false });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const apnsId = headers['apns-id'] === undefined ? randomUUID() : String(headers['apns-id']).toLowerCase();
      void check(headers, body).then(
        ({ token, payload }) => {
          let reply: ApnsReply = byToken.get(token.toLowerCase()) ?? { status: 200 };
          if (reply.status === 200 && failures && failures.remaining > 0) {
            reply = failures.reply;
            failures.remaining--;
          }
          return { token, payload, reply };
        },
        (error: unknown) => {
          if (!(error instanceof Refusal)) throw error;
          const reply: ApnsReply = { status: error.status, reason: error.reason };
          return { token: /^\/3\/device\/(.*)$/.exec(String(headers[':path']))?.[1] ?? '', payload: undefined, reply };
        },
      ).then(({ token, payload, reply }) => {
        const header = (name: string) => (headers[name] === undefined ? {} : { [camel(name)]: String(headers[name]) });
        const request: ApnsRequest = {
          receivedAt: Date.now(), deviceToken: token.toLowerCase(), apnsId,
          ...header('apns-topic'), ...header('apns-push-type'), ...header('apns-priority'), ...header('apns-collapse-id'), ...header('apns-expiration'),
          ...(payload === undefined ? {} : { payload }),
          bytes: body.length, status: reply.status, ...(reply.reason === undefined ? {} : { reason: reply.reason }), accepted: reply.status === 200,
        };
        const answer = () => {
          requests.push(request);
          for (const waiter of waiters) waiter(request);
          if (stream.closed || stream.destroyed) return;
          stream.respond({ ':status': reply.status, 'apns-id': apnsId, ...(reply.status === 200 ? {} : { 'content-type': 'application/json' }) });
          stream.end(reply.status === 200 ? undefined : JSON.stringify({ reason: reply.reason, ...(reply.timestamp === undefined ? {} : { timestamp: reply.timestamp }) }));
        };
        if (delayMs > 0) setTimeout(answer, delayMs);
        else answer();
      });
    });
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    endpoint: `127.0.0.1:${port}`,
    certificate: pems.cert,
    keyFile, keyId, teamId, requests,
    accepted: () => requests.filter((r) => r.accepted),
    failNext(count, reply) {
      failures = { remaining: count, reply };
    },
    respondForToken(deviceToken, reply) {
      byToken.set(deviceToken.toLowerCase(), reply);
    },
    setResponseDelay(ms) {
      delayMs = ms;
    },
    clearRules() {
      failures = undefined;
      byToken.clear();
      delayMs = 0;
    },
    waitFor(match, what = 'a matching APNs request', timeoutMs = 15_000) {
      const found = requests.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`APNs server did not receive ${what} within ${timeoutMs} ms; received ${requests.length}: ${JSON.stringify(requests.slice(-3))}`));
        }, timeoutMs);
        const waiter = (request: ApnsRequest) => {
          if (!match(request)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(request);
        };
        waiters.add(waiter);
      });
    },
    async stop() {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function camel(header: string): string {
  return header.replace(/^apns-/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}

/** The `aps` dictionary's documented keys and types ("Generating a remote notification"). */
function checkPayload(payload: unknown, pushType: string): void {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new Refusal(400, 'BadPayload');
  const aps = (payload as { aps?: unknown }).aps;
  if (typeof aps !== 'object' || aps === null || Array.isArray(aps)) throw new Refusal(400, 'BadPayload');
  const a = aps as Record<string, unknown>;
  const isString = (v: unknown) => v === undefined || typeof v === 'string';
  if (a.badge !== undefined && !(Number.isInteger(a.badge) && (a.badge as number) >= 0)) throw new Refusal(400, 'BadPayload');
  if (!isString(a['thread-id']) || !isString(a.category)) throw new Refusal(400, 'BadPayload');
  if (a['mutable-content'] !== undefined && a['mutable-content'] !== 1) throw new Refusal(400, 'BadPayload');
  if (a['content-available'] !== undefined && a['content-available'] !== 1) throw new Refusal(400, 'BadPayload');
  if (a.alert !== undefined) {
    if (typeof a.alert === 'object' && a.alert !== null) {
      const alert = a.alert as Record<string, unknown>;
      if (!isString(alert.title) || !isString(alert.body) || !isString(alert.subtitle)) throw new Refusal(400, 'BadPayload');
    } else if (typeof a.alert !== 'string') {
      throw new Refusal(400, 'BadPayload');
    }
  }
  if (pushType === 'background') {
    // A background notification wakes the app and must not alert, sound or badge.
    if (a['content-available'] !== 1 || Object.keys(a).some((k) => k !== 'content-available')) throw new Refusal(400, 'BadPayload');
  } else if (pushType === 'alert' && a.alert === undefined && a.badge === undefined && a.sound === undefined) {
    throw new Refusal(400, 'BadPayload');
  }
}
