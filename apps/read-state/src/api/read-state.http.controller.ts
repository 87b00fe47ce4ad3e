import { Body, Catch, Controller, Get, Headers, Param, Put, UseFilters, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import type { MovedBy } from '../domain/read-pointer';
import { ReadStateError } from '../domain/read-state.errors';
import { ReadStateService, type MoveResult } from '../read-state.service';
import type { UserCounts } from '../read-state.repository';
import { toProblem } from './error-mapping';
import { HttpAuth } from './http-auth';

/** Typed errors become RFC 9457 problem responses. */
@Catch(ReadStateError)
class ReadStateHttpFilter implements ExceptionFilter<ReadStateError> {
  catch(error: ReadStateError, host: ArgumentsHost): void {
    const { status, body } = toProblem(error.condition, error.message);
    host.switchToHttp().getResponse<Response>().status(status).type('application/problem+json').send(JSON.stringify(body));
  }
}

const moveBody = z.object({ stanzaId: z.string().min(1).max(128) }).strict();
const MOVED_BY_HTTP: MovedBy = 'http';

/** HTTP API for the product backend (see README.md). */
@Controller('users/:user')
@UseFilters(new ReadStateHttpFilter())
export class ReadStateHttpController {
  constructor(private readonly readState: ReadStateService, private readonly auth: HttpAuth) {}

  /** GET /users/{jid}/unread → { total, chats: [{ peer, unread, pointer? }] } */
  @Get('unread')
  async unread(@Param('user') user: string, @Headers('authorization') authorization?: string): Promise<UserCounts> {
    await this.auth.authorize(authorization, user);
    return this.readState.unreadOf(user);
  }

  /** PUT /users/{jid}/chats/{peer}/read-pointer { stanzaId } → { moved, pointer, unread, total } */
  @Put('chats/:peer/read-pointer')
  async movePointer(
    @Param('user') user: string, @Param('peer') peer: string, @Body() body: unknown, @Headers('authorization') authorization?: string,
  ): Promise<MoveResult> {
    await this.auth.authorize(authorization, user);
    const parsed = moveBody.safeParse(body);
    if (!parsed.success) throw new ReadStateError('bad-request', `body must be {"stanzaId": "<XEP-0359 stanza id>"}: ${parsed.error.issues[0]!.message}`);
    return this.readState.moveReadPointer({ user, peer, stanzaId: parsed.data.stanzaId, movedBy: MOVED_BY_HTTP });
  }
}
