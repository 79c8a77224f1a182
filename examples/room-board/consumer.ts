// The room board's consumer: reads dv2000.hospitality and servio.rooms through the schema registry into a RoomBoard.
// Run: npx tsx examples/room-board/consumer.ts --brokers 127.0.0.1:9092 --registry http://127.0.0.1:8081/apis/ccompat/v7
import { SchemaRegistry, SchemaType, type DecodeOptions } from '@kafkajs/confluent-schema-registry'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import { formatBoard, RoomBoard, type HospitalityEvent, type ServioChange } from './board.js'

/** The newest schemas, as reader schemas: records written with v1 read with the fields v2 added at their default. */
function readerOf(name: string): DecodeOptions {
  const schema = JSON.parse(readFileSync(new URL(`../../schemas/${name}.avsc`, import.meta.url), 'utf8')) as NonNullable<DecodeOptions[SchemaType.AVRO]>['readerSchema']
  return { [SchemaType.AVRO]: { readerSchema: schema } }
}

export interface RoomBoardOptions {
  brokers: string[]
  registryUrl: string
  /** The bridge's topicPrefix. */
  prefix?: string
  groupId?: string
  fromBeginning?: boolean
  dedupeWindow?: number
  /** After each record that changed the board. */
  onChange?: (board: RoomBoard) => void
}

export interface RunningRoomBoard {
  board: RoomBoard
  stop(): Promise<void>
}

export async function startRoomBoard(options: RoomBoardOptions): Promise<RunningRoomBoard> {
  const prefix = options.prefix ?? ''
  const topics = { hospitality: `${prefix}dv2000.hospitality`, rooms: `${prefix}servio.rooms` }
  const registry = new SchemaRegistry({ host: options.registryUrl })
  const readers: Record<string, DecodeOptions> = { [topics.hospitality]: readerOf('dv2000_event'), [topics.rooms]: readerOf('servio_change') }
  const board = new RoomBoard(options.dedupeWindow)
  const kafka = new Kafka({ clientId: 'room-board', brokers: options.brokers, logLevel: logLevel.WARN })
  const consumer = kafka.consumer({ groupId: options.groupId ?? `room-board-${randomUUID()}` })
  await consumer.connect()
  await consumer.subscribe({ topics: [topics.hospitality, topics.rooms], fromBeginning: options.fromBeginning ?? true })
  await consumer.run({
    // One record at a time, in partition order: a room's events are applied in the order they happened.
    eachMessage: async ({ topic, message }) => {
      if (message.value === null) return
      const value: unknown = await registry.decode(message.value, readers[topic])
      const changed = topic === topics.hospitality ? board.applyHospitality(value as HospitalityEvent) : board.applyServioRoom(value as ServioChange)
      if (changed) options.onChange?.(board)
    },
  })
  return { board, stop: () => consumer.disconnect() }
}

const HELP = `Usage: npx tsx examples/room-board/consumer.ts --brokers HOST:PORT[,…] --registry URL [--prefix P] [--group ID] [--port N]

Reads dv2000.hospitality and servio.rooms (behind the bridge's topicPrefix P) from the beginning, and prints
the room board each time it changes (at most once a second); with --port, also serves it as JSON on
http://127.0.0.1:N/. --group: a consumer group of your own (default: a new one per run).
`

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string', default: '127.0.0.1:9092' },
      registry: { type: 'string', default: 'http://127.0.0.1:8081/apis/ccompat/v7' },
      prefix: { type: 'string', default: '' },
      group: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return void process.stdout.write(HELP)
  let printed = 0
  let pending: NodeJS.Timeout | undefined
  const print = (board: RoomBoard): void => {
    if (pending !== undefined) return
    pending = setTimeout(() => {
      pending = undefined
      printed = Date.now()
      process.stdout.write(`\n${formatBoard(board.view())}`)
    }, Math.max(0, 1_000 - (Date.now() - printed)))
  }
  const running = await startRoomBoard({ brokers: values.brokers.split(','), registryUrl: values.registry, prefix: values.prefix, groupId: values.group, onChange: print })
  const server =
    values.port === undefined
      ? undefined
      : createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(running.board.view()))).listen(Number(values.port), '127.0.0.1')
  const stop = (): void => {
    server?.close()
    clearTimeout(pending)
    void running.stop().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
