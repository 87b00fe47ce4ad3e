import { Catch, Controller, UseFilters, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { ArchivePreferencesService, type PreferencesView } from '../archive-preferences.service';
import { ArchiveReader, type ArchivedMessage, type ArchivePage } from '../archive-reader';
import { ArchiveError } from '../domain/archive-error';
import type { ArchiveMode } from '../domain/archiving-policy';
import type { RsmRequest } from '../domain/rsm';
import { toRpcException } from './error-mapping';

// Shapes of libs/contracts/proto/archive.proto (proto-loader keepCase, longs as strings, defaults on).
interface RsmMessage { max: number; has_max: boolean; after: string; before: string; has_before: boolean; index: number; has_index: boolean }
interface QueryRequest {
  requester: string; owner: string; with: string; start: string; end: string; before_id: string; after_id: string;
  ids: string[]; rsm?: RsmMessage | null; flip_page: boolean;
}
interface MessageReply { archive_id: string; stanza: string; accepted_at: string }
interface QueryReply { messages: MessageReply[]; first: string; last: string; count: number; first_index: number; has_first_index: boolean; complete: boolean }
interface OwnerRequest { requester: string; owner: string }

/** Typed errors become gRPC statuses with the XMPP condition in the trailers. */
@Catch(ArchiveError)
class ArchiveRpcFilter implements RpcExceptionFilter<ArchiveError> {
  catch(error: ArchiveError, _host: ArgumentsHost): Observable<never> {
    return throwError(() => toRpcException(error.condition, error.message).getError());
  }
}

/** gRPC API `hearth.archive.Archive`: the gateway's MAM module and service-to-service reads. */
@Controller()
@UseFilters(new ArchiveRpcFilter())
export class ArchiveGrpcController {
  constructor(private readonly reader: ArchiveReader, private readonly preferences: ArchivePreferencesService) {}

  @GrpcMethod('Archive', 'Query')
  async query(request: QueryRequest): Promise<QueryReply> {
    const page = await this.reader.query({
      requester: request.requester, owner: request.owner,
      ...(request.with ? { with: request.with } : {}), ...(request.start ? { start: request.start } : {}),
      ...(request.end ? { end: request.end } : {}), ...(request.before_id ? { beforeId: request.before_id } : {}),
      ...(request.after_id ? { afterId: request.after_id } : {}), ...(request.ids?.length ? { ids: request.ids } : {}),
    }, rsmOf(request.rsm), request.flip_page);
    return pageReply(page);
  }

  @GrpcMethod('Archive', 'GetPreferences')
  getPreferences(request: OwnerRequest): Promise<PreferencesView> {
    return this.preferences.get(request.requester, request.owner);
  }

  @GrpcMethod('Archive', 'SetPreferences')
  setPreferences(request: OwnerRequest & { default: string; always: string[]; never: string[] }): Promise<PreferencesView> {
    return this.preferences.set(request.requester, request.owner, {
      default: request.default as ArchiveMode, // checked by the service
      always: request.always ?? [], never: request.never ?? [],
    });
  }

  @GrpcMethod('Archive', 'ListChats')
  async listChats(request: OwnerRequest & { max: number; before: string }) {
    const result = await this.reader.chats(request.requester, request.owner, request.max || undefined, request.before || undefined);
    return {
      complete: result.complete,
      chats: result.chats.map((c) => ({ peer: c.peer, message_count: c.messageCount, last_message: messageReply(c.lastMessage) })),
    };
  }

  @GrpcMethod('Archive', 'ListConversations')
  async listConversations(request: OwnerRequest & { with: string; since: string; since_id: string; after: string; max: number }) {
    const result = await this.reader.conversations({
      requester: request.requester, owner: request.owner,
      ...(request.with ? { with: request.with } : {}), ...(request.since ? { since: request.since } : {}),
      ...(request.since_id ? { sinceId: request.since_id } : {}), ...(request.after ? { after: request.after } : {}),
      ...(request.max ? { max: request.max } : {}),
    });
    return {
      complete: result.complete,
      conversations: result.conversations.map((c) => ({
        conversation_id: c.conversationId, peer: c.peer, started_at: c.startedAt, last_at: c.lastAt,
        message_count: c.messageCount, first_id: c.firstId, last_id: c.lastId,
      })),
    };
  }

  @GrpcMethod('Archive', 'ConversationMessages')
  async conversationMessages(request: OwnerRequest & { conversation_id: string; rsm?: RsmMessage | null }): Promise<QueryReply> {
    if (!request.conversation_id) throw new ArchiveError('bad-request', 'conversation_id is required');
    const page = await this.reader.query(
      { requester: request.requester, owner: request.owner, conversationId: request.conversation_id }, rsmOf(request.rsm));
    return pageReply(page);
  }
}

function rsmOf(rsm: RsmMessage | null | undefined): RsmRequest | undefined {
  if (!rsm) return undefined;
  return {
    ...(rsm.has_max ? { max: rsm.max } : {}),
    ...(rsm.after ? { after: rsm.after } : {}),
    ...(rsm.has_before || rsm.before ? { before: rsm.before } : {}),
    ...(rsm.has_index ? { index: rsm.index } : {}),
  };
}

const messageReply = (m: ArchivedMessage): MessageReply => ({ archive_id: m.archiveId, stanza: m.stanza, accepted_at: m.acceptedAt });

function pageReply(page: ArchivePage): QueryReply {
  return {
    messages: page.messages.map(messageReply), first: page.first ?? '', last: page.last ?? '', count: page.count,
    first_index: page.firstIndex ?? 0, has_first_index: page.firstIndex !== undefined, complete: page.complete,
  };
}
