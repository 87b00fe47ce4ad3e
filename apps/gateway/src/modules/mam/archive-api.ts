// Shapes of libs/contracts/proto/archive.proto as @grpc/proto-loader gives them to the gateway
// (keepCase, longs as strings, defaults filled in). Only the calls the MAM module makes.

/** XEP-0059 RSM; the has_* flags say which elements the client sent. */
export interface RsmRequest {
  max: number;
  has_max: boolean;
  after: string;
  before: string;
  has_before: boolean;
  index: number;
  has_index: boolean;
}

export interface QueryRequest {
  requester: string;
  owner: string;
  with: string;
  start: string;
  end: string;
  before_id: string;
  after_id: string;
  ids: string[];
  rsm: RsmRequest | null;
  flip_page: boolean;
}

export interface ArchivedMessage {
  archive_id: string;
  stanza: string;
  accepted_at: string;
}

export interface QueryResponse {
  messages: ArchivedMessage[];
  first: string;
  last: string;
  /** int64, as a string. */
  count: string;
  first_index: string;
  has_first_index: boolean;
  complete: boolean;
}

export interface PreferencesRequest {
  requester: string;
  owner: string;
}

export type ArchiveDefault = 'always' | 'never' | 'roster';

export interface Preferences {
  default: string;
  always: string[];
  never: string[];
}

export interface SetPreferencesRequest extends PreferencesRequest, Preferences {}
