// Servio's own source options (hotel id, entity and action filters) and its vocabulary, and the type of a configured Servio source.
import { z } from 'zod'
import { sourceSchemaOf } from '../../config/source-common.js'

export const servioEntities = ['client', 'company', 'guest', 'room'] as const
export const servioActions = ['add', 'update', 'delete'] as const
export type ServioEntity = (typeof servioEntities)[number]
export type ServioAction = (typeof servioActions)[number]

/** In a filter: every entity (or action) the document does not list, as a newer Servio may send. */
export const OTHER = 'other'

export const servioOptions = {
  /** Put on every record: Servio's batches never say which hotel they are about. */
  hotelId: z.string().min(1).optional(),
  entities: z.array(z.enum([...servioEntities, OTHER])).min(1).optional(),
  actions: z.array(z.enum([...servioActions, OTHER])).min(1).optional(),
}

const servioSourceSchema = sourceSchemaOf('servio', servioOptions)
export type ServioSourceConfig = z.infer<typeof servioSourceSchema>
