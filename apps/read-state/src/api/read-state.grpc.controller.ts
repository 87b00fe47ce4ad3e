import { Controller, UseFilters, type ArgumentsHost, Catch, type RpcExceptionFilter } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import type { MovedBy } from '../domain/read-pointer';
import { ReadStateError } from '../domain/read-state.errors';
import { ReadStateService } from '../read-state.service';
import { toRpcException } from './error-mapping';

// Shapes of libs/contracts/proto/read-state.proto (proto-loader keepCase: snake_case fields).
interface MoveReadPointerRequest { user: string; peer: string; stanza_id: string; message_id: string; moved_by: string }
interface MoveReadPointerReply { moved: boolean; pointer: string; unread: number; total: number }
interface UnreadReply { total: number; chats: { peer: string; unread: number; pointer: string }[] }
interface DisplayedItemsReply { items: { peer: string; stanza_id: string; by: string }[] }

/** Typed errors become gRPC statuses with the XMPP condition in the trailers. */
@Catch(ReadStateError)
class ReadStateRpcFilter implements RpcExceptionFilter<ReadStateError> {
  catch(error: ReadStateError, _host: ArgumentsHost): Observable<never> {
    const rpc: RpcException = toRpcException(error.condition, error.message);
    return throwError(() => rpc.getError());
  }
}

/** gRPC API `hearth.read_state.ReadState`, called by the gateway. */
@Controller()
@UseFilters(new ReadStateRpcFilter())
export class ReadStateGrpcController {
  constructor(private readonly readState: ReadStateService) {}

  @GrpcMethod('ReadState', 'MoveReadPointer')
  async moveReadPointer(request: MoveReadPointerRequest): Promise<MoveReadPointerReply> {
    const result = await this.readState.moveReadPointer({
      user: request.user,
      peer: request.peer,
      ...(request.stanza_id ? { stanzaId: request.stanza_id } : {}),
      ...(request.message_id ? { messageId: request.message_id } : {}),
      movedBy: request.moved_by as MovedBy, // checked by validateMove
    });
    return { moved: result.moved, pointer: result.pointer ?? '', unread: result.unread, total: result.total };
  }

  @GrpcMethod('ReadState', 'GetUnread')
  async getUnread(request: { user: string }): Promise<UnreadReply> {
    const counts = await this.readState.unreadOf(request.user);
    return { total: counts.total, chats: counts.chats.map((c) => ({ peer: c.peer, unread: c.unread, pointer: c.pointer ?? '' })) };
  }

  @GrpcMethod('ReadState', 'GetDisplayedItems')
  async getDisplayedItems(request: { user: string; peers: string[] }): Promise<DisplayedItemsReply> {
    const items = await this.readState.displayedItems(request.user, request.peers ?? []);
    return { items: items.map((i) => ({ peer: i.peer, stanza_id: i.stanzaId, by: i.by })) };
  }
}
