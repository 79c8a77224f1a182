// The room board: each room's latest state, from dv2000.hospitality (DV2000's room events) and servio.rooms (Servio).
import { DedupeWindow } from './dedupe.js'

/** A decoded dv2000_event (schema v1 or v2, read with the v2 reader schema): the fields the board reads. */
export interface HospitalityEvent {
  event_id: string
  event_name: string
  received_at: number | Date
  occurred_at: number | Date | null
  message: HospitalityMessage | null
  user_agent: string | null
}

export interface HospitalityMessage {
  room?: string | null
  from?: string | null
  to?: string | null
  guestid?: string | null
  firstname?: string | null
  lastname?: string | null
  maidstatus?: string | null
  vip?: boolean | null
}

/** A decoded servio_change: Servio says that an entity changed, not how; a PMS sync fetches it again. */
export interface ServioChange {
  event_id: string
  entity: string
  action: string
  id: number | bigint
  received_at: number | Date
  user_agent: string | null
}

export interface Guest {
  guestId: string | null
  name: string | null
}

export interface RoomState {
  room: string
  occupied: boolean | null
  guest: Guest | null
  maidStatus: string | null
  vip: boolean | null
  lastEvent: string
  /** When it happened (the event's own time if DV2000 gave one), ISO 8601. */
  at: string
  /** Who sent it (DV2000's User-Agent, from schema v2; null for v1 records). */
  sentBy: string | null
}

export interface PmsRoomState {
  id: string
  lastAction: string
  at: string
}

export interface BoardView {
  rooms: RoomState[]
  pmsRooms: PmsRoomState[]
  applied: number
  duplicates: number
}

const iso = (time: number | Date): string => new Date(time).toISOString()
const guestName = (m: HospitalityMessage): string | null => [m.firstname, m.lastname].filter((part) => part !== undefined && part !== null && part !== '').join(' ') || null

export class RoomBoard {
  private readonly rooms = new Map<string, RoomState>()
  private readonly pmsRooms = new Map<string, PmsRoomState>()
  private readonly seen: DedupeWindow
  private applied = 0
  private duplicates = 0

  constructor(dedupeWindow = 100_000) {
    this.seen = new DedupeWindow(dedupeWindow)
  }

  /** Applies one record of dv2000.hospitality; false when it is a duplicate or names no room. */
  applyHospitality(event: HospitalityEvent): boolean {
    if (!this.firstTime(event.event_id)) return false
    const m = event.message
    const room = m?.room ?? null
    const base = { lastEvent: event.event_name, at: iso(event.occurred_at ?? event.received_at), sentBy: event.user_agent }
    if (m === null) return false
    switch (event.event_name) {
      case 'room_check_in':
        if (room === null) return false
        this.set(room, { ...base, occupied: true, guest: { guestId: m.guestid ?? null, name: guestName(m) }, vip: m.vip ?? null })
        return true
      case 'room_check_out':
        if (room === null) return false
        this.set(room, { ...base, occupied: false, guest: null, vip: null })
        return true
      case 'room_move': {
        if (m.from === undefined || m.from === null || m.to === undefined || m.to === null) return false
        const moving = this.rooms.get(m.from)?.guest ?? null
        this.set(m.from, { ...base, occupied: false, guest: null, vip: null })
        this.set(m.to, { ...base, occupied: true, guest: { guestId: m.guestid ?? moving?.guestId ?? null, name: moving?.name ?? null } })
        return true
      }
      case 'room_update':
        if (room === null) return false
        this.set(room, { ...base, ...(m.maidstatus === undefined || m.maidstatus === null ? {} : { maidStatus: m.maidstatus }), ...(m.vip === undefined || m.vip === null ? {} : { vip: m.vip }) })
        return true
      default:
        if (room === null) return false
        this.set(room, base)
        return true
    }
  }

  /** Applies one record of servio.rooms; false when it is a duplicate. */
  applyServioRoom(change: ServioChange): boolean {
    if (!this.firstTime(change.event_id)) return false
    const id = String(change.id)
    if (change.action === 'delete') this.pmsRooms.delete(id)
    else this.pmsRooms.set(id, { id, lastAction: change.action, at: iso(change.received_at) })
    return true
  }

  view(): BoardView {
    const byName = <T>(map: Map<string, T>): T[] => [...map.entries()].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true })).map(([, v]) => v)
    return { rooms: byName(this.rooms), pmsRooms: byName(this.pmsRooms), applied: this.applied, duplicates: this.duplicates }
  }

  private firstTime(eventId: string): boolean {
    if (this.seen.firstTime(eventId)) {
      this.applied++
      return true
    }
    this.duplicates++
    return false
  }

  private set(room: string, change: Partial<RoomState> & Pick<RoomState, 'lastEvent' | 'at' | 'sentBy'>): void {
    const before = this.rooms.get(room) ?? { room, occupied: null, guest: null, maidStatus: null, vip: null }
    this.rooms.set(room, { ...before, ...change, room })
  }
}

/** The board as a table, for a terminal. */
export function formatBoard(view: BoardView): string {
  const rows = view.rooms.map((r) => [r.room, r.occupied === null ? '?' : r.occupied ? 'occupied' : 'vacant', r.guest?.name ?? r.guest?.guestId ?? '', r.maidStatus ?? '', r.lastEvent, r.at])
  const header = ['ROOM', 'STATE', 'GUEST', 'MAID', 'LAST EVENT', 'AT']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  const pms = view.pmsRooms.map((p) => `  Servio room ${p.id}: ${p.lastAction} at ${p.at} (fetch it from Servio)`)
  return [line(header), ...rows.map(line), ...(pms.length > 0 ? ['', 'Changed in Servio:', ...pms] : []), '', `${view.applied} events applied, ${view.duplicates} duplicates dropped`, ''].join('\n')
}
