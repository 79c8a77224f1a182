// The AsyncAPI document of a config, read back by the AsyncAPI project's own parser (with its Avro schema parser).
import { AvroSchemaParser } from '@asyncapi/avro-schema-parser'
import { Parser, type AsyncAPIDocumentInterface } from '@asyncapi/parser'
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'
import { asyncApiText } from '../../../src/cli/asyncapi.js'
import { validateConfig } from '../../../src/config/load.js'
import type { BridgeConfig } from '../../../src/config/schema.js'

const parser = new Parser()
parser.registerSchemaParser(AvroSchemaParser())

/** Parses and validates `text`; fails on any error or warning, naming them. */
async function parsed(text: string): Promise<AsyncAPIDocumentInterface> {
  const { document, diagnostics } = await parser.parse(text)
  expect(diagnostics.map((d) => `${d.code}: ${d.message} at ${d.path.join('/')}`)).toEqual([])
  expect(document).toBeDefined()
  return document!
}

const example = validateConfig(parseYaml(readFileSync('config/example.yaml', 'utf8')))

/** A hotel group's config: a prefix, overrides on two topics, SASL over TLS, a client certificate, three brokers. */
const group: BridgeConfig = (() => {
  const config = validateConfig({
    kafka: { brokers: ['b1.kafka.example:9093', 'b2.kafka.example:9093', 'b3.kafka.example:9093'], ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'bridge', password: 'a-kafka-password' } },
    schemaRegistry: { url: 'https://registry.example/', username: 'bridge', password: 'a-registry-password' },
    topicPrefix: 'acme.',
    topics: { partitions: 6, replicationFactor: 3 },
    sources: [
      { id: 'front-desk', type: 'dv2000', secrets: ['a-long-secret'], categories: [3, 1], topics: { 'dv2000.hospitality': 'rooms.voice' } },
      { id: 'lviv', type: 'servio', secrets: ['a-long-secret'], entities: ['room', 'guest'], topics: { 'bridge.deadletter': 'servio.refused' } },
    ],
  })
  return { ...config, kafka: { ...config.kafka, certFile: '/etc/bridge/client.pem', keyFile: '/etc/bridge/client.key' } }
})()

describe('asyncapi', () => {
  it('describes the example config: one channel per topic, each with its key, its Avro payload, headers and bindings', async () => {
    const doc = await parsed(asyncApiText(example, false))
    expect(doc.version()).toBe('3.1.0')
    const addresses = doc.channels().all().map((c) => c.address())
    expect(addresses).toEqual([
      'bridge.deadletter',
      'dv2000.general',
      'dv2000.hospitality',
      'dv2000.other',
      'dv2000.system',
      'dv2000.telephony',
      'servio.clients',
      'servio.companies',
      'servio.guests',
      'servio.other',
      'servio.rooms',
    ])

    const hospitality = doc.channels().get('dv2000.hospitality')!
    const message = hospitality.messages().all()[0]!
    // The Avro schema, read through the Avro parser: the fields SPEC §3 says consumers may rely on.
    const payload = message.payload()!
    expect(Object.keys(payload.properties() ?? {})).toEqual(expect.arrayContaining(['event_id', 'category_name', 'event_name', 'service_id', 'occurred_at', 'message', 'message_json', 'user_agent']))
    expect(message.contentType()).toBe('application/avro')
    const kafka = message.bindings().get('kafka')!.value() as Record<string, unknown>
    expect(kafka).toMatchObject({ schemaIdLocation: 'payload', schemaIdPayloadEncoding: 'confluent', schemaLookupStrategy: 'TopicIdStrategy' })
    expect((kafka['key'] as { description: string }).description).toMatch(/^The room: message\.room, or message\.to for a room move/)
    const otherKey = doc.channels().get('dv2000.general')!.messages().all()[0]!.bindings().get('kafka')!.value() as { key: { description: string } }
    expect(otherKey.key.description).toMatch(/^service_id/)
    const headers = message.headers()!.properties()!
    expect(Object.keys(headers)).toEqual(['event_id', 'source', 'received_at', 'ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'content-type'])
    expect(headers['ce_source']!.enum()).toEqual(['/v1/dv2000/front-desk'])
    expect(headers['ce_specversion']!.const()).toBe('1.0')
    expect(hospitality.bindings().get('kafka')!.value()).toMatchObject({ topic: 'dv2000.hospitality', partitions: 3 })

    const deadLetters = doc.channels().get('bridge.deadletter')!.messages().all()[0]!
    expect(deadLetters.headers()!.properties()!['ce_type']!.enum()).toEqual(['org.hotel-kafka-bridge.dv2000.deadletter', 'org.hotel-kafka-bridge.servio.deadletter'])
    expect(Object.keys(deadLetters.payload()!.properties() ?? {})).toEqual(expect.arrayContaining(['reason', 'body']))

    const server = doc.servers().all()[0]!
    expect([server.host(), server.protocol()]).toEqual(['127.0.0.1:9092', 'kafka'])
    expect(server.bindings().get('kafka')!.value()).toMatchObject({ schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7', schemaRegistryVendor: 'apicurio' })
    // The bridge sends and a consumer receives, on every channel.
    const actions = doc.operations().all().map((o) => `${o.action()} ${o.channels().all()[0]!.address()}`)
    expect(actions).toHaveLength(2 * addresses.length)
    for (const address of addresses) expect(actions).toEqual(expect.arrayContaining([`send ${address}`, `receive ${address}`]))
  })

  it('applies the prefix and the overrides, lists the filtered topics only, and says how to connect; no secret in it', async () => {
    const text = asyncApiText(group, false)
    const doc = await parsed(text)
    expect(doc.channels().all().map((c) => c.address())).toEqual([
      'acme.bridge.deadletter',
      'acme.dv2000.telephony',
      'acme.rooms.voice',
      'acme.servio.guests',
      'acme.servio.refused',
      'acme.servio.rooms',
    ])
    // Each source's dead letters go where its own override says.
    expect(doc.channels().get('acme.bridge.deadletter')!.messages().all()[0]!.headers()!.properties()!['source']!.enum()).toEqual(['front-desk'])
    expect(doc.channels().get('acme.servio.refused')!.messages().all()[0]!.headers()!.properties()!['source']!.enum()).toEqual(['lviv'])
    expect(doc.channels().get('acme.rooms.voice')!.bindings().get('kafka')!.value()).toMatchObject({ topic: 'acme.rooms.voice', partitions: 6, replicas: 3 })
    const servers = doc.servers().all()
    expect(servers.map((s) => [s.host(), s.protocol()])).toEqual([
      ['b1.kafka.example:9093', 'kafka-secure'],
      ['b2.kafka.example:9093', 'kafka-secure'],
      ['b3.kafka.example:9093', 'kafka-secure'],
    ])
    expect(servers[0]!.security().flatMap((requirement) => requirement.all().map((r) => r.scheme().type()))).toEqual(['scramSha512', 'X509'])
    expect(servers[0]!.bindings().get('kafka')!.value()).toMatchObject({ schemaRegistryUrl: 'https://registry.example', schemaRegistryVendor: 'confluent' })
    for (const secret of ['a-kafka-password', 'a-registry-password', 'a-long-secret']) expect(text).not.toContain(secret)
  })

  it('writes the same document as JSON with --json', async () => {
    const json = JSON.parse(asyncApiText(example, true)) as Record<string, unknown>
    expect(json).toEqual(parseYaml(asyncApiText(example, false)))
    await parsed(JSON.stringify(json))
  })
})
