// Reads Confluent wire-format values back: the writer's schema fetched by id from the registry (once per id), then Avro.
import avsc from 'avsc'
import { BridgeError, ErrorCodes } from '../errors.js'
import { MAGIC_BYTE } from './encoder.js'
import type { RegistryHttp } from './registry-http.js'

export interface WireDecoder {
  /** The value as its writer wrote it; rejects naming the problem when it is not wire format or its schema is unknown. */
  decode(value: Buffer): Promise<Record<string, unknown>>
}

export function createWireDecoder(http: Pick<RegistryHttp, 'call' | 'failure'>): WireDecoder {
  const types = new Map<number, Promise<avsc.Type>>()

  async function writerType(id: number): Promise<avsc.Type> {
    const answer = await http.call('GET', `/schemas/ids/${id}`, `schema id ${id}`)
    if (answer.status !== 200 || typeof answer.body['schema'] !== 'string') throw http.failure(answer, `schema id ${id}`, 'fetching')
    return avsc.Type.forSchema(JSON.parse(answer.body['schema']) as avsc.Schema)
  }

  return {
    async decode(value) {
      if (value.length < 5 || value.readUInt8(0) !== MAGIC_BYTE) {
        throw new BridgeError(ErrorCodes.BAD_INPUT, 'not a Confluent wire-format value (magic byte 0 and a schema id)')
      }
      const id = value.readUInt32BE(1)
      let type = types.get(id)
      if (type === undefined) {
        type = writerType(id)
        // A failed fetch (the registry away) is tried again for the next value.
        type.catch(() => types.delete(id))
        types.set(id, type)
      }
      return (await type).fromBuffer(value.subarray(5)) as Record<string, unknown>
    },
  }
}
