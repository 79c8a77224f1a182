// The DV2000 "Events" packet and its hospitality message, as the bridge types them (SPEC §3).

export interface Dv2000Message {
  actor: string | null
  count: number | null
  date: string | null
  event: number | null
  firstname: string | null
  from: string | null
  guestid: string | null
  isforsync: boolean | null
  language: string | null
  lastname: string | null
  line: number | null
  maidstatus: string | null
  mailbox: string | null
  room: string | null
  source: string | null
  time: string | null
  timestamp: string | null
  to: string | null
  vip: boolean | null
}

/** The Avro value of a DV2000 record; field order follows schemas/dv2000_event.avsc. */
export interface Dv2000Event {
  event_id: string
  source: string
  received_at: number
  category: number
  category_name: string
  event: number
  event_name: string
  service_id: number
  service_name: string
  date: string
  time: string
  timestamp: string
  occurred_at: number | null
  message: Dv2000Message | null
  message_json: string
  extra_json: string | null
  /** From v2: the request's User-Agent (e.g. DuVoice/8.0.20: which DV2000 version sent it), null when absent. */
  user_agent: string | null
}
