// A third sender, a hotel PBX's call records, written only against the SourceComponent interface: the extension point's proof.
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { sourceSchemaOf } from '../../../src/config/source-common.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { recordHeaders } from '../../../src/records.js'
import type { SourceComponent } from '../../../src/sources/source.js'

const pbxOptions = {
  /** Only calls of these extensions are produced. */
  extensions: z.array(z.string().regex(/^\d{2,6}$/)).min(1).optional(),
}
const pbxSourceSchema = sourceSchemaOf('pbx', pbxOptions)
export type PbxSourceConfig = z.infer<typeof pbxSourceSchema>

const call = z.strictObject({
  call_id: z.string().min(1),
  extension: z.string().regex(/^\d{2,6}$/),
  direction: z.enum(['in', 'out']),
  duration: z.int().min(0).optional(),
})

export const pbxSource: SourceComponent<PbxSourceConfig> = {
  type: 'pbx',
  options: pbxOptions,
  schema: 'pbx_call',
  schemaFile: fileURLToPath(new URL('./pbx_call.avsc', import.meta.url)),
  topics: () => ['pbx.calls'],
  keyOf: () => 'The extension.',
  ingest(body, context) {
    const eventId = context.newId()
    let parsed: z.infer<typeof call>
    try {
      parsed = call.parse(JSON.parse(body.toString('utf8')))
    } catch (error) {
      throw new BridgeError(ErrorCodes.BAD_INPUT, `not a PBX call record: ${(error as Error).message.slice(0, 200)}`)
    }
    const { extensions } = context.source
    if (extensions !== undefined && !extensions.includes(parsed.extension)) {
      return { kind: 'filtered', eventId, reason: `extension ${parsed.extension} is not in this source's extensions` }
    }
    return {
      kind: 'records',
      eventId,
      records: [
        {
          topic: 'pbx.calls',
          key: parsed.extension,
          schema: 'pbx_call',
          headers: recordHeaders(eventId, context.source.id, context.receivedAt, { sourceType: 'pbx', type: 'call' }),
          value: {
            event_id: eventId,
            source: context.source.id,
            received_at: context.receivedAt.getTime(),
            call_id: parsed.call_id,
            extension: parsed.extension,
            direction: parsed.direction,
            duration_seconds: parsed.duration ?? null,
          },
        },
      ],
    }
  },
}
