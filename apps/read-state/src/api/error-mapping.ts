import { HttpStatus } from '@nestjs/common';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import type { ReadStateCondition } from '../domain/read-state.errors';

/** gRPC status and HTTP status per condition; the condition itself travels with both. */
const BY_CONDITION: Record<ReadStateCondition, { grpc: GrpcStatus; http: HttpStatus }> = {
  'item-not-found': { grpc: GrpcStatus.NOT_FOUND, http: HttpStatus.NOT_FOUND },
  'bad-request': { grpc: GrpcStatus.INVALID_ARGUMENT, http: HttpStatus.BAD_REQUEST },
  'jid-malformed': { grpc: GrpcStatus.INVALID_ARGUMENT, http: HttpStatus.BAD_REQUEST },
  'not-authorized': { grpc: GrpcStatus.UNAUTHENTICATED, http: HttpStatus.UNAUTHORIZED },
  forbidden: { grpc: GrpcStatus.PERMISSION_DENIED, http: HttpStatus.FORBIDDEN },
  'resource-constraint': { grpc: GrpcStatus.UNAVAILABLE, http: HttpStatus.SERVICE_UNAVAILABLE },
};

/** Trailing metadata key carrying the XMPP condition, for the gateway's stanza error. */
export const CONDITION_METADATA_KEY = 'hearth-condition';

export function toRpcException(condition: ReadStateCondition, message: string): RpcException {
  const metadata = new Metadata();
  metadata.set(CONDITION_METADATA_KEY, condition);
  return new RpcException({ code: BY_CONDITION[condition].grpc, message, details: message, metadata });
}

/** RFC 9457 problem details. */
export function toProblem(condition: ReadStateCondition, detail: string): { status: number; body: Record<string, unknown> } {
  const status = BY_CONDITION[condition].http;
  return { status, body: { type: `urn:hearth:problem:${condition}`, title: condition, status, detail, condition } };
}
