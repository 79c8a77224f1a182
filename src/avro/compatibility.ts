// FULL compatibility of two versions of a schema, by Avro's own resolution rules (avsc): each must read data written with the other.
import avsc from 'avsc'

export interface Incompatibility {
  /** Which reader failed: an old consumer reading new records, or a new consumer reading old ones. */
  direction: 'old consumers reading new records' | 'new consumers reading old records'
  /** e.g. "field service_name removed without a default". */
  reason: string
}

type RecordSchema = { type: 'record'; name: string; fields: { name: string; type: unknown; default?: unknown }[] }

const isRecord = (schema: unknown): schema is RecordSchema =>
  typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'record' && Array.isArray((schema as { fields?: unknown }).fields)

function reads(reader: unknown, writer: unknown): string | undefined {
  try {
    avsc.Type.forSchema(reader as avsc.Schema).createResolver(avsc.Type.forSchema(writer as avsc.Schema))
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/** Says which field and why, where avsc only says a reader cannot resolve: the first field that fails alone. */
function explain(reader: unknown, writer: unknown, message: string, readerIsNew: boolean): string {
  const missing = /no matching field for default-less \S*?\.?([A-Za-z_][A-Za-z0-9_]*)$/.exec(message)
  if (missing !== null) return `field ${missing[1]} ${readerIsNew ? 'added' : 'removed'} without a default`
  if (isRecord(reader) && isRecord(writer)) {
    for (const field of reader.fields) {
      const other = writer.fields.find((f) => f.name === field.name)
      if (other === undefined) continue
      const alone = (f: { name: string; type: unknown }, name: string) => ({ type: 'record', name, fields: [{ name: f.name, type: f.type }] })
      const failure = reads(alone(field, reader.name), alone(other, writer.name))
      if (failure !== undefined) return `field ${field.name}: ${failure}`
    }
  }
  return message
}

/** Both directions: empty when `older` and `newer` are FULL compatible. Schemas as parsed JSON. */
export function fullIncompatibilities(older: unknown, newer: unknown): Incompatibility[] {
  const problems: Incompatibility[] = []
  const oldReadsNew = reads(older, newer)
  if (oldReadsNew !== undefined) problems.push({ direction: 'old consumers reading new records', reason: explain(older, newer, oldReadsNew, false) })
  const newReadsOld = reads(newer, older)
  if (newReadsOld !== undefined) problems.push({ direction: 'new consumers reading old records', reason: explain(newer, older, newReadsOld, true) })
  return problems
}
