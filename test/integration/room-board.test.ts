// The room board example (examples/room-board) against a real bridge, broker and registry: events posted through the
// bridge, one record delivered twice (as a replay after an outage delivers it), and one written with schema v1.
import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry'
import { readFileSync } from 'node:fs'
import { Kafka, logLevel, type IHeaders } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startRoomBoard, type RunningRoomBoard } from '../../examples/room-board/consumer.js'
import { checkInMessageText, checkOutMessageText, packetAround, roomMoveMessageText, roomUpdateText } from '../fixtures/dv2000/index.js'
import { servioFixture } from '../fixtures/servio/index.js'
import { DV2000_SECRET, SERVIO_SECRET, startBridge, testConfig, type RunningBridge } from './support/bridge.js'
import { consume, post, registryClient } from './support/kafka.js'

const USER_AGENT = 'DuVoice/8.0.20'

describe('the room board example', () => {
  let bridge: RunningBridge
  let board: RunningRoomBoard | undefined
  const kafka = new Kafka({ clientId: 'it-room-board', brokers: inject('kafkaBrokers').split(','), logLevel: logLevel.NOTHING })
  const producer = kafka.producer()
  beforeAll(async () => {
    bridge = await startBridge(testConfig())
    await producer.connect()
  })
  afterAll(async () => {
    await board?.stop()
    await producer.disconnect()
    await bridge?.close()
  })

  it('shows each room\'s latest state: a duplicate is dropped by event_id, a v1 record reads like a v2 one', { timeout: 120_000 }, async () => {
    const dv2000 = async (body: string): Promise<string> => {
      const answer = await post(`${bridge.url}/v1/dv2000/front-desk?token=${DV2000_SECRET}`, body, { 'user-agent': USER_AGENT })
      expect(answer.status, JSON.stringify(answer.json)).toBe(200)
      return answer.json['event_id'] as string
    }
    const at = (time: string) => ({ timestamp: `2023-09-13T${time}-07:00` })
    const inRoom = (text: string, room: string): string => text.replace('"room": "100-101"', `"room": "${room}"`)
    // A stay, in order: check-in, maid status, a move, a check-out, and the next guest in the same room.
    await dv2000(packetAround(checkInMessageText(), 9, at('08:26:14')))
    await dv2000(roomUpdateText())
    await dv2000(packetAround(roomMoveMessageText(), 11, at('08:28:10')))
    const checkOut = await dv2000(packetAround(inRoom(checkOutMessageText(), '100-102'), 10, at('09:00:00')))
    await dv2000(packetAround(inRoom(checkInMessageText(), '100-102').replace('"Amiee"', '"Rosa"'), 9, at('09:30:00')))
    const servio = await post(`${bridge.url}/v1/servio/kyiv-central?token=${SERVIO_SECRET}`, servioFixture('room-1-update.json'))
    expect(servio.status).toBe(200)

    const prefix = bridge.prefix
    const hospitality = `${prefix}dv2000.hospitality`
    const records = await consume(prefix, (r) => r.filter((x) => x.topic === hospitality).length === 5, 60_000)
    const written = records.find((r) => r.headers['event_id'] === checkOut)!
    const headers = (from: Record<string, string>, change: Record<string, string> = {}): IHeaders => ({ ...from, ...change })
    // The check-out again, byte for byte, after the next check-in of its room: what a replay after a lost answer does.
    await producer.send({ topic: hospitality, acks: -1, messages: [{ key: written.key, value: written.rawValue, headers: headers(written.headers) }] })

    // A record an older bridge wrote with dv2000_event v1 (no user_agent): registered beside v2 (FULL_TRANSITIVE).
    const registry = registryClient()
    const v1 = JSON.parse(readFileSync('schemas/history/dv2000_event/v1.avsc', 'utf8')) as Record<string, unknown>
    const { id: v1Id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject: `${hospitality}-value`, compatibility: COMPATIBILITY.FULL_TRANSITIVE })
    const oldEventId = '5f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f'
    const oldValue = { ...written.value, event_id: oldEventId, event: 9, event_name: 'room_check_in', message: { ...(written.value['message'] as object), room: '100-104', event: 9 } }
    delete (oldValue as Record<string, unknown>)['user_agent']
    await producer.send({
      topic: hospitality,
      acks: -1,
      messages: [{ key: '100-104', value: await registry.encode(v1Id, oldValue), headers: headers(written.headers, { event_id: oldEventId, ce_id: oldEventId, ce_type: 'org.hotel-kafka-bridge.dv2000.room_check_in' }) }],
    })

    board = await startRoomBoard({ brokers: inject('kafkaBrokers').split(','), registryUrl: inject('schemaRegistryUrl'), prefix })
    // 5 stay events, one Servio change, the v1 record: 7 applied; the copy of the check-out dropped.
    await expect.poll(() => ({ applied: board!.board.view().applied, duplicates: board!.board.view().duplicates }), { timeout: 60_000, interval: 200 }).toEqual({ applied: 7, duplicates: 1 })
    const view = board.board.view()
    const room = (name: string) => view.rooms.find((r) => r.room === name)
    expect(room('100-101')).toMatchObject({ occupied: false, guest: null, maidStatus: '0', lastEvent: 'room_move', sentBy: USER_AGENT })
    // Without the dedupe, the copy of the check-out (read last) would show 100-102 vacant.
    expect(room('100-102')).toMatchObject({ occupied: true, guest: { name: 'Rosa Dutra' }, lastEvent: 'room_check_in', at: '2023-09-13T16:30:00.000Z', sentBy: USER_AGENT })
    expect(room('100-104')).toMatchObject({ occupied: true, lastEvent: 'room_check_in', sentBy: null })
    expect(view.pmsRooms).toMatchObject([{ id: '160', lastAction: 'update' }])
  })
})
