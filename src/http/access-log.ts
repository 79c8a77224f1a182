// The request log: one line per request, when it is answered.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

/**
 * One access line per request, when it is answered: the request (URL redacted by the logger's serializer), the
 * answer, and the event it was (the ingest route names it on the request: no child logger per request for one
 * field). fastify writes two; at 1,000 events/s the first is CPU for nothing.
 */
export class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime, event_id: request.bridgeEventId ?? undefined }
    if (error) reply.log.error({ ...line, err: error }, 'request errored')
    else reply.log.info(line, 'request completed')
  }
}
