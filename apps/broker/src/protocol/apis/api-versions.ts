/**
 * ApiVersions (key 18), v0-v3. https://kafka.apache.org/protocol#The_Messages_ApiVersions
 * v3 is flexible in its request; its response header stays v0 (KIP-511), so a client that
 * sent a version we do not know can still read the v0 answer with UNSUPPORTED_VERSION.
 */
import { Writer } from '../codec';
import type { ApiModule, BrokerServices } from '../api';
import { ErrorCode } from '../error-codes';

/** The v0 answer used both for v0 and for versions newer than ours (the client then retries lower). */
export function apiVersionsV0(broker: BrokerServices, errorCode: number): Writer {
  return new Writer()
    .int16(errorCode)
    .array(broker.apis, (w, api) => w.int16(api.key).int16(api.minVersion).int16(api.maxVersion));
}

export const apiVersions: ApiModule = {
  key: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  handle({ version, body, broker }) {
    if (version === 0) return apiVersionsV0(broker, ErrorCode.NONE);
    if (version < 3) return apiVersionsV0(broker, ErrorCode.NONE).int32(0);
    body.compactString(); // client_software_name
    body.compactString(); // client_software_version
    body.skipTaggedFields();
    return new Writer()
      .int16(ErrorCode.NONE)
      .compactArray(broker.apis, (w, api) => w.int16(api.key).int16(api.minVersion).int16(api.maxVersion).emptyTaggedFields())
      .int32(0)
      .emptyTaggedFields();
  },
};
