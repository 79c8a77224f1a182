// A live reload under a steady stream, against the real broker and registry: sources added, removed and rotated (a secrets
// file re-read), an invalid config and a restart-only change refused whole, the stream never refused. The bridge is a
// child process: SIGHUP and file changes, as an operator makes them.
import { execFileSync } from 'node:child_process'
import { copyFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import { servioFixture } from '../fixtures/servio/index.js'
import { childSetup, startChild, type ChildBridge } from './support/child-bridge.js'
import { post } from './support/kafka.js'
import { expectDeliveredInOrder, metric, send, STREAM_SECRET, type Sent } from './support/stream.js'

const children: ChildBridge[] = []
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL')
    await child.exited
  }
})

const ROTATED_OUT = 'rotated-out-secret-1'
const ROTATED_IN = 'rotated-in-secret-2'
const SERVIO_SECRET = 'new-hotel-secret-1'

/** Events to front-desk, one after another, until stopped: what a DV2000 sends while the operator reloads. */
function stream(url: string): { stop: () => Promise<Sent[]> } {
  const sent: Sent[] = []
  let running = true
  const done = (async () => {
    for (let seq = 0; running; seq++) sent.push(await send(url, `room-${seq % 4}`, seq))
  })()
  return {
    stop: async () => {
      running = false
      await done
      return sent
    },
  }
}

const dv2000 = (url: string, source: string, token: string) => post(`${url}/v1/dv2000/${source}?token=${token}`, JSON.stringify({ category: 3, event: 12, date: '2023/09/13', time: '08:07:46', timestamp: '2023-09-13T08:07:46-07:00', service_id: 1, service_name: 'x', message: { room: '101' } }))

/** Writes the config file the child was started on and sends SIGHUP; resolves once the reload with this result is counted. */
async function reload(child: ChildBridge, config: Record<string, unknown>, result: 'ok' | 'invalid' | 'refused'): Promise<void> {
  const before = (await metric(child.url, `bridge_config_reloads_total{result="${result}"}`)) ?? 0
  writeFileSync(child.configFile, JSON.stringify(config))
  process.kill(child.pid, 'SIGHUP')
  await expect.poll(() => metric(child.url, `bridge_config_reloads_total{result="${result}"}`), { timeout: 60_000, interval: 100 }).toBe(before + 1)
}

describe('live reload (SIGHUP)', () => {
  it('adds, removes and rotates sources under a steady stream, refuses an invalid or restart-only config whole, and never refuses the stream', { timeout: 180_000 }, async () => {
    const s = await childSetup('reload', STREAM_SECRET)
    const secretsFile = join(s.dir, 'rotating.secrets')
    writeFileSync(secretsFile, `# the rotating hotel's token\n${ROTATED_OUT}\n`)
    const frontDesk = { id: 'front-desk', type: 'dv2000', secrets: [STREAM_SECRET] }
    const rotating = { id: 'rotating', type: 'dv2000', secretsFile, secrets: [] }
    const leaving = { id: 'leaving', type: 'dv2000', secrets: ['leaving-secret-1'] }
    const first = s.config({ sources: [frontDesk, rotating, leaving] })
    const child = await startChild(first, s.dir)
    children.push(child)
    await expect.poll(async () => (await send(child.url, 'warm', 0)).status, { timeout: 60_000, interval: 250 }).toBe(200)
    expect((await dv2000(child.url, 'leaving', 'leaving-secret-1')).status).toBe(200)
    expect((await dv2000(child.url, 'rotating', ROTATED_OUT)).status).toBe(200)

    const events = stream(child.url)
    // The operator adds a Servio hotel, removes one, and rotates a token in its secrets file.
    writeFileSync(secretsFile, `${ROTATED_IN}\n`)
    const newHotel = { id: 'new-hotel', type: 'servio', secrets: [SERVIO_SECRET] }
    await reload(child, s.config({ sources: [frontDesk, rotating, newHotel] }), 'ok')
    expect((await post(`${child.url}/v1/servio/new-hotel?token=${SERVIO_SECRET}`, servioFixture('guest-1-add.json'))).status).toBe(200)
    expect((await dv2000(child.url, 'leaving', 'leaving-secret-1')).status).toBe(404)
    expect((await dv2000(child.url, 'rotating', ROTATED_OUT)).status).toBe(401)
    expect((await dv2000(child.url, 'rotating', ROTATED_IN)).status).toBe(200)

    // An invalid config, then one that moves the port: each refused whole, the running one serving on.
    await reload(child, s.config({ sources: [frontDesk, { id: 'broken', type: 'dv2000', secrets: [] }] }), 'invalid')
    await reload(child, { ...s.config({ sources: [frontDesk] }), http: { host: '127.0.0.1', port: s.port + 1 } }, 'refused')
    expect((await post(`${child.url}/v1/servio/new-hotel?token=${SERVIO_SECRET}`, servioFixture('guest-2-update.json'))).status).toBe(200)
    const sent = await events.stop()

    expect(sent.length).toBeGreaterThan(10)
    expect(sent.filter((a) => a.status !== 200)).toEqual([])
    await expectDeliveredInOrder(s.prefix, sent)
    const lines = child.output().split('\n')
    expect(lines.filter((l) => l.includes('"msg":"configuration reloaded"'))).toEqual([expect.stringContaining('"added":["new-hotel"],"removed":["leaving"],"changed":["rotating"]')])
    const refused = lines.filter((l) => l.includes('configuration reload refused'))
    expect(refused).toHaveLength(2)
    expect(refused[0]).toContain('sources[1].secrets')
    expect(refused[1]).toContain('http.port change only at a restart')
    expect(child.output()).not.toContain(ROTATED_IN)
  })
})

describe('reload.watch (no signal: Kubernetes updates mounted files in place)', () => {
  it('reloads when a secrets file changes, and when the config file does', { timeout: 120_000 }, async () => {
    const s = await childSetup('watch', STREAM_SECRET)
    const secretsFile = join(s.dir, 'front-desk.secrets')
    writeFileSync(secretsFile, `${ROTATED_OUT}\n`)
    const watched = (sources: unknown[]) => s.config({ sources, reload: { watch: true, watchIntervalMs: 500 } })
    const child = await startChild(watched([{ id: 'front-desk', type: 'dv2000', secretsFile }]), s.dir)
    children.push(child)
    await expect.poll(async () => (await dv2000(child.url, 'front-desk', ROTATED_OUT)).status, { timeout: 60_000, interval: 250 }).toBe(200)

    // Kubernetes swaps the Secret's file: no SIGHUP, the new token works, the old one is refused.
    writeFileSync(secretsFile, `${ROTATED_IN}\n`)
    await expect.poll(() => metric(child.url, 'bridge_config_reloads_total{result="ok"}'), { timeout: 30_000, interval: 100 }).toBe(1)
    expect((await dv2000(child.url, 'front-desk', ROTATED_IN)).status).toBe(200)
    expect((await dv2000(child.url, 'front-desk', ROTATED_OUT)).status).toBe(401)
    // And the ConfigMap: a source added.
    writeFileSync(child.configFile, JSON.stringify(watched([{ id: 'front-desk', type: 'dv2000', secretsFile }, { id: 'lobby', type: 'dv2000', secrets: ['lobby-secret-1'] }])))
    await expect.poll(() => metric(child.url, 'bridge_config_reloads_total{result="ok"}'), { timeout: 30_000, interval: 100 }).toBe(2)
    expect((await dv2000(child.url, 'lobby', 'lobby-secret-1')).status).toBe(200)
  })
})

/** A throw-away certificate and key for 127.0.0.1, named CN. */
function certificate(dir: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${cn}.pem`)
  const key = join(dir, `${cn}.key`)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  return { cert, key }
}

/** The CN of the certificate a new TLS connection to the port is shown. */
function presentedCn(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN))
      socket.end()
    })
    socket.on('error', reject)
  })
}

describe('certificate renewal', () => {
  it('re-reads the HTTPS certificate and key on SIGHUP; a certificate that is not its key\'s is refused, the old one served on', { timeout: 120_000 }, async () => {
    const s = await childSetup('certs', STREAM_SECRET)
    const first = certificate(s.dir, 'first')
    const renewed = certificate(s.dir, 'renewed')
    const live = { cert: join(s.dir, 'live.pem'), key: join(s.dir, 'live.key') }
    copyFileSync(first.cert, live.cert)
    copyFileSync(first.key, live.key)
    const config = s.config({ http: { host: '127.0.0.1', port: s.port, tls: { certFile: live.cert, keyFile: live.key } } })
    const child = await startChild(config, s.dir)
    children.push(child)
    expect(await presentedCn(s.port)).toBe('first')

    // A careless renewal: the new certificate beside the old key.
    copyFileSync(renewed.cert, live.cert)
    await reload(child, config, 'invalid')
    expect(await presentedCn(s.port)).toBe('first')
    expect(child.output()).toContain('are not a certificate and its key')

    copyFileSync(renewed.key, live.key)
    await reload(child, config, 'ok')
    expect(await presentedCn(s.port)).toBe('renewed')
  })
})
