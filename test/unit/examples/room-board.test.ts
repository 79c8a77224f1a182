// The room board example's state: the document's own hospitality events, written as the bridge writes them (v1 or v2)
// and read back with the v2 reader schema, as the example's consumer reads them.
import avro from 'avsc'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { formatBoard, RoomBoard, type HospitalityEvent, type ServioChange } from '../../../examples/room-board/board.js'
import { DedupeWindow } from '../../../examples/room-board/dedupe.js'
import { validateConfig } from '../../../src/config/load.js'
import { dv2000Source, type Dv2000SourceConfig } from '../../../src/sources/dv2000/index.js'
import { servioSource, type ServioSourceConfig } from '../../../src/sources/servio/index.js'
import { checkInMessageText, checkOutMessageText, packetBuffer, roomMoveMessageText, roomUpdateText } from '../../fixtures/dv2000/index.js'
import { servioFixture } from '../../fixtures/servio/index.js'

const schema = (file: string): avro.Type => avro.Type.forSchema(JSON.parse(readFileSync(file, 'utf8')) as avro.Schema)
const dv2000 = { v1: schema('schemas/history/dv2000_event/v1.avsc'), v2: schema('schemas/dv2000_event.avsc') }
const servio = { v1: schema('schemas/history/servio_change/v1.avsc'), v2: schema('schemas/servio_change.avsc') }

const sources = validateConfig({
  sources: [
    { id: 'front-desk', type: 'dv2000', secrets: ['a-long-secret'] },
    { id: 'kyiv-central', type: 'servio', secrets: ['a-long-secret'] },
  ],
}).sources
let ids = 0
const context = { receivedAt: new Date('2023-09-13T15:30:00Z'), newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`, userAgent: 'DuVoice/8.0.20' }

/** A body through the bridge's DV2000 component, Avro-written with `writer`, read with the v2 reader schema. */
function hospitality(body: Buffer, writer: avro.Type = dv2000.v2): HospitalityEvent {
  const result = dv2000Source.ingest(body, { ...context, source: sources[0] as Dv2000SourceConfig })
  if (result.kind !== 'records') throw new Error('filtered')
  return dv2000.v2.fromBuffer(writer.toBuffer(result.records[0]!.value), dv2000.v2.createResolver(writer)) as HospitalityEvent
}

function servioRooms(body: string | Buffer, writer: avro.Type = servio.v2): ServioChange[] {
  const result = servioSource.ingest(Buffer.from(body), { ...context, source: sources[1] as ServioSourceConfig })
  if (result.kind !== 'records') throw new Error('filtered')
  return result.records.filter((r) => r.topic === 'servio.rooms').map((r) => servio.v2.fromBuffer(writer.toBuffer(r.value), servio.v2.createResolver(writer)) as ServioChange)
}

const checkIn = (room: string): Buffer => packetBuffer(checkInMessageText().replace('"room": "100-101"', `"room": "${room}"`), 9)
// The packet's timestamp is the message's: DV2000 sends both.
const checkOut = (room: string): Buffer => packetBuffer(checkOutMessageText().replace('"room": "100-101"', `"room": "${room}"`), 10, { timestamp: '2023-09-13T08:27:22-07:00' })
const move = (): Buffer => packetBuffer(roomMoveMessageText(), 11, { timestamp: '2023-09-13T08:28:10-07:00' })

describe('RoomBoard', () => {
  it("keeps each room's latest state through check-in, maid status, a move and a check-out, dropping a duplicate", () => {
    const board = new RoomBoard()
    const arrival = hospitality(checkIn('100-101'))
    expect(board.applyHospitality(arrival)).toBe(true)
    expect(board.applyHospitality(hospitality(Buffer.from(roomUpdateText())))).toBe(true)
    expect(board.applyHospitality(hospitality(move()))).toBe(true)
    // The same record again (a replay after an outage): same event_id, dropped.
    expect(board.applyHospitality(arrival)).toBe(false)
    // An old record (schema v1) reads alike, its user_agent at the v2 default.
    const old = hospitality(checkIn('100-103'), dv2000.v1)
    expect(old.user_agent).toBeNull()
    board.applyHospitality(old)
    board.applyHospitality(hospitality(checkOut('100-103')))

    const { rooms, applied, duplicates } = board.view()
    expect({ applied, duplicates }).toEqual({ applied: 5, duplicates: 1 })
    expect(rooms).toEqual([
      // Left by the move; its maid status (room update: "0") stays with the room.
      { room: '100-101', occupied: false, guest: null, maidStatus: '0', vip: null, lastEvent: 'room_move', at: '2023-09-13T15:28:10.000Z', sentBy: 'DuVoice/8.0.20' },
      // The guest who checked in to 100-101 moved here: the move names only the guest id.
      { room: '100-102', occupied: true, guest: { guestId: '14575183', name: 'Amiee Dutra' }, maidStatus: null, vip: null, lastEvent: 'room_move', at: '2023-09-13T15:28:10.000Z', sentBy: 'DuVoice/8.0.20' },
      { room: '100-103', occupied: false, guest: null, maidStatus: null, vip: null, lastEvent: 'room_check_out', at: '2023-09-13T15:27:22.000Z', sentBy: 'DuVoice/8.0.20' },
    ])
    expect(formatBoard(board.view())).toMatch(/^100-102 +occupied +Amiee Dutra +room_move/m)
  })

  it('lists the rooms Servio says changed, v1 and v2 records alike, and forgets a deleted one', () => {
    const board = new RoomBoard()
    const [update] = servioRooms(servioFixture('room-1-update.json'))
    expect(board.applyServioRoom(update!)).toBe(true)
    const [deleted] = servioRooms('{"Add":null,"Update":null,"Delete":{"Rooms":[77]}}', servio.v1)
    expect(deleted!.user_agent).toBeNull()
    board.applyServioRoom({ ...deleted!, action: 'add' , event_id: 'another' })
    expect(board.view().pmsRooms.map((p) => [p.id, p.lastAction])).toEqual([
      ['77', 'add'],
      [String(update!.id), 'update'],
    ].sort(([a], [b]) => a!.localeCompare(b!, undefined, { numeric: true })))
    board.applyServioRoom(deleted!)
    expect(board.view().pmsRooms.map((p) => p.id)).toEqual([String(update!.id)])
    expect(board.applyServioRoom(update!)).toBe(false)
  })
})

describe('DedupeWindow', () => {
  it('remembers the last `capacity` ids: an id older than that counts as new again', () => {
    const window = new DedupeWindow(2)
    expect(['a', 'b', 'a', 'c'].map((id) => window.firstTime(id))).toEqual([true, true, false, true])
    expect(window.size).toBe(2)
    // 'a' was the oldest when 'c' came.
    expect([window.firstTime('b'), window.firstTime('a')]).toEqual([false, true])
    expect(() => new DedupeWindow(0)).toThrow(/at least one id/)
  })
})
