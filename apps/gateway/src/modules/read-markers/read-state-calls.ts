import type { ServiceClient } from '../../services/service-client';

/** The read-state service's replies (libs/contracts/proto/read-state.proto, keepCase). */
export interface MoveReadPointerReply {
  moved: boolean;
  pointer: string;
  unread: number;
  total: number;
}
export interface UnreadReply {
  total: number;
  chats: { peer: string; unread: number; pointer: string }[];
}
export interface DisplayedItemsReply {
  items: { peer: string; stanza_id: string; by: string }[];
}

export type PointerMove =
  | { user: string; peer: string; stanza_id: string; moved_by: 'mds' }
  // XEP-0333 markers name the message by the id its sender gave it, or by its stanza id (see read-markers.module.ts).
  | { user: string; peer: string; message_id: string; moved_by: 'displayed-marker' };

/**
 * The read-state gRPC API as the read-markers module uses it. Service failures become the stanza
 * error the service named (its `hearth-condition` trailer), so handlers simply let them through.
 */
export class ReadStateCalls {
  constructor(private readonly client: ServiceClient) {}

  move(move: PointerMove): Promise<MoveReadPointerReply> {
    return this.call('MoveReadPointer', move);
  }

  unread(user: string): Promise<UnreadReply> {
    return this.call('GetUnread', { user });
  }

  displayedItems(user: string, peers: string[]): Promise<DisplayedItemsReply> {
    return this.call('GetDisplayedItems', { user, peers });
  }

  private call<R>(method: string, request: object): Promise<R> {
    return this.client.request<R>(method, request);
  }
}
