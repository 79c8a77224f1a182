// DV2000 category and event numbers to the names of the contract (SPEC §3, the DuVoice "Events" tables).

const categoryNames: readonly string[] = ['general', 'telephony', 'system', 'hospitality']

export const HOSPITALITY = 3
export const ROOM_MOVE = 11

export function categoryName(category: number): string {
  return categoryNames[category] ?? 'other'
}

const eventNames = new Map<number, string>([
  [0, 'general_message'],
  [1, 'system_startup'],
  [2, 'system_shutdown'],
  [4, 'wakeup_answered'],
  [5, 'wakeup_callout'],
  [6, 'wakeup_created'],
  [7, 'wakeup_deleted'],
  [8, 'wakeup_failed'],
  [9, 'room_check_in'],
  [10, 'room_check_out'],
  [11, 'room_move'],
  [12, 'room_update'],
  [14, 'sip_registration_success'],
  [15, 'sip_registration_failure'],
  [16, 'sip_network_reconnected'],
  [17, 'sip_network_failure'],
])

export function eventName(event: number): string {
  return eventNames.get(event) ?? 'unknown'
}
