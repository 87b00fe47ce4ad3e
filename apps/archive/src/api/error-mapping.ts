import { HttpStatus } from '@nestjs/common';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import type { ArchiveCondition } from '../domain/archive-error';

/** gRPC and HTTP status per condition; the condition itself travels with both. */
const BY_CONDITION: Record<ArchiveCondition, { grpc: GrpcStatus; http: HttpStatus }> = {
  'item-not-found': { grpc: GrpcStatus.NOT_FOUND, http: HttpStatus.NOT_FOUND },
  'bad-request': { grpc: GrpcStatus.INVALID_ARGUMENT, http: HttpStatus.BAD_REQUEST },
  forbidden: { grpc: GrpcStatus.PERMISSION_DENIED, http: HttpStatus.FORBIDDEN },
  'not-authorized': { grpc: GrpcStatus.UNAUTHENTICATED, http: HttpStatus.UNAUTHORIZED },
  'resource-constraint': { grpc: GrpcStatus.UNAVAILABLE, http: HttpStatus.SERVICE_UNAVAILABLE },
};

/** Trailing metadata key carrying the XMPP condition, for the gateway's stanza error (same key as read-state). */
export const CONDITION_METADATA_KEY = 'hearth-condition';

export function toRpcException(condition: ArchiveCondition, message: string): RpcException {
  const metadata = new Metadata();
  metadata.set(CONDITION_METADATA_KEY, condition);
  const text = `${condition}: ${message}`;
  return new RpcException({ code: BY_CONDITION[condition].grpc, message: text, details: text, metadata });
}

/** RFC 9457 problem details. */
export function toProblem(condition: ArchiveCondition, detail: string): { status: number; body: Record<string, unknown> } {
  const status = BY_CONDITION[condition].http;
  return { status, body: { type: `urn:hearth:problem:${condition}`, title: condition, status, detail, condition } };
}
