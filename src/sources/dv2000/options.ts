// DV2000's own source options (its `-cat` filter), and the type of a configured DV2000 source.
import { z } from 'zod'
import { sourceSchemaOf } from '../../config/source-common.js'

export const dv2000Options = {
  /** Like the sender's own `-cat`: only these categories are produced; absent means all. */
  categories: z.array(z.int().min(0).max(255)).min(1).optional(),
}

const dv2000SourceSchema = sourceSchemaOf('dv2000', dv2000Options)
export type Dv2000SourceConfig = z.infer<typeof dv2000SourceSchema>
