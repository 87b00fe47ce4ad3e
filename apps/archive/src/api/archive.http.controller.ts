import { Catch, Controller, Get, Headers, Param, Query, UseFilters, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { ArchiveReader, type ArchivePage } from '../archive-reader';
import { ArchiveError } from '../domain/archive-error';
import type { RsmRequest } from '../domain/rsm';
import { HttpAuth } from './http-auth';
import { toProblem } from './error-mapping';

/** Typed errors become RFC 9457 problem responses. */
@Catch(ArchiveError)
class ArchiveHttpFilter implements ExceptionFilter<ArchiveError> {
  catch(error: ArchiveError, host: ArgumentsHost): void {
    const { status, body } = toProblem(error.condition, error.message);
    const response = host.switchToHttp().getResponse<Response>();
    // RFC 9110 §10.2.3: a wait condition (the archive catching up with the log) says when to come back.
    if (error.condition === 'resource-constraint') response.setHeader('retry-after', '1');
    response.status(status).type('application/problem+json').send(JSON.stringify(body));
  }
}

type QueryParams = Record<string, string | string[] | undefined>;

/**
 * HTTP API for web clients and the product backend (same JWT as the gateway, or the admin token):
 *   GET /users/{jid}/archive?with&start&end&after&before&max&index   messages (RSM paging as in MAM)
 *   GET /users/{jid}/chats?max&before                                chats with their last message, newest first
 *   GET /users/{jid}/conversations?with&since&sinceId&after&max      conversations, oldest first
 *   GET /users/{jid}/conversations/{id}/messages?after&before&max    one conversation's messages, paged by id
 * `before=` (empty) asks for the last page.
 */
@Controller('users/:user')
@UseFilters(new ArchiveHttpFilter())
export class ArchiveHttpController {
  constructor(private readonly reader: ArchiveReader, private readonly auth: HttpAuth) {}

  @Get('archive')
  async archive(@Param('user') user: string, @Query() query: QueryParams, @Headers('authorization') authorization?: string): Promise<ArchivePage> {
    const requester = await this.auth.requesterFor(authorization, user);
    const ids = query.ids === undefined ? undefined : ([] as string[]).concat(query.ids).flatMap((v) => v.split(','));
    return this.reader.query({
      requester, owner: user,
      ...optional('with', one(query, 'with')), ...optional('start', one(query, 'start')), ...optional('end', one(query, 'end')),
      ...optional('afterId', one(query, 'afterId')), ...optional('beforeId', one(query, 'beforeId')), ...(ids ? { ids } : {}),
    }, rsmOf(query));
  }

  @Get('chats')
  async chats(@Param('user') user: string, @Query() query: QueryParams, @Headers('authorization') authorization?: string) {
    const requester = await this.auth.requesterFor(authorization, user);
    return this.reader.chats(requester, user, integer(query, 'max'), one(query, 'before') || undefined);
  }

  @Get('conversations')
  async conversations(@Param('user') user: string, @Query() query: QueryParams, @Headers('authorization') authorization?: string) {
    const requester = await this.auth.requesterFor(authorization, user);
    return this.reader.conversations({
      requester, owner: user, ...optional('with', one(query, 'with')), ...optional('since', one(query, 'since')),
      ...optional('sinceId', one(query, 'sinceId')), ...optional('after', one(query, 'after')), ...optional('max', integer(query, 'max')),
    });
  }

  @Get('conversations/:id/messages')
  async conversationMessages(
    @Param('user') user: string, @Param('id') id: string, @Query() query: QueryParams, @Headers('authorization') authorization?: string,
  ): Promise<ArchivePage> {
    const requester = await this.auth.requesterFor(authorization, user);
    return this.reader.query({ requester, owner: user, conversationId: id }, rsmOf(query));
  }
}

function one(query: QueryParams, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new ArchiveError('bad-request', `${name} may be given once`);
  return value;
}

function integer(query: QueryParams, name: string): number | undefined {
  const value = one(query, name);
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw new ArchiveError('bad-request', `${name} must be a non-negative integer`);
  return Number(value);
}

const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  (value === undefined || value === '' ? {} : { [key]: value }) as Partial<Record<K, V>>;

function rsmOf(query: QueryParams): RsmRequest {
  const before = one(query, 'before');
  return {
    ...optional('max', integer(query, 'max')), ...optional('after', one(query, 'after')),
    ...(before === undefined ? {} : { before }), ...optional('index', integer(query, 'index')),
  };
}
