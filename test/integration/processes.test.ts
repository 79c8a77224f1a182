// http.processes: 2, as a real process tree: two workers serve one port and the primary stores for both. Which worker
// takes a connection is the kernel's choice, so the test stalls one (SIGSTOP) to send the next events to the other:
// one room's events, each answered before the next is sent, reach Kafka in order across both; a killed worker is
// replaced; /metrics counts every worker's requests; SIGTERM stops the tree cleanly.
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from './support/cli.js'
import { childSetup, startChild, waitDelivering, type ChildBridge } from './support/child-bridge.js'
import { expectDeliveredInOrder, metric, postOnNewConnection, STREAM_SECRET, waitFor, type Sent } from './support/stream.js'

let bridge: ChildBridge | undefined
const stopped: number[] = []
afterEach(() => {
  for (const pid of stopped.splice(0)) process.kill(pid, 'SIGCONT')
  bridge?.kill('SIGKILL')
  bridge = undefined
})

/** The primary's child processes: its workers. */
function workersOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
}

describe('http.processes: 2', () => {
  it('serves one sender from both workers in order, replaces a killed worker, adds up /metrics and stops cleanly', async () => {
    const setup = await childSetup('procs', STREAM_SECRET)
    // A worker SIGSTOPped in mid-turn counts the stop as busy time and would shed the first connection after SIGCONT
    // (overload.test.ts covers that shedding): not what this test is about.
    const http = { host: '127.0.0.1', port: setup.port, processes: 2, maxBusyMs: 600_000 }
    bridge = await startChild(setup.config({ http }), setup.dir)
    const primary = bridge.pid
    await waitDelivering(bridge.url, 'kafka')
    await waitFor(() => workersOf(primary).length === 2, 'two workers')
    const [first, second] = workersOf(primary) as [number, number]

    const sent: Sent[] = []
    let seq = 0
    const failures = (): string => JSON.stringify(sent.filter((s) => s.status !== 200).slice(0, 3))
    const sendSome = async (count: number, secret = STREAM_SECRET): Promise<void> => {
      for (let i = 0; i < count; i++) sent.push(await postOnNewConnection(setup.port, 'room-101', seq++, secret))
    }
    /** Only `worker` can accept while the others are stalled. */
    const through = async (worker: number, work: () => Promise<void>): Promise<void> => {
      const others = workersOf(primary).filter((pid) => pid !== worker)
      for (const pid of others) process.kill(pid, 'SIGSTOP')
      stopped.push(...others)
      await work()
      for (const pid of stopped.splice(0)) process.kill(pid, 'SIGCONT')
    }
    await through(second, () => sendSome(20))
    await through(first, () => sendSome(20))
    await sendSome(20)
    expect(sent.map((s) => s.status), failures()).toEqual(sent.map(() => 200))
    expect(await metric(bridge.url, 'bridge_requests_total{source="front-desk",outcome="produced"}')).toBe(60)

    // A reload (a rotated secret) reaches both workers.
    writeFileSync(bridge.configFile, JSON.stringify(setup.config({ http, sources: [{ id: 'front-desk', type: 'dv2000', secrets: ['procs-rotated-2'] }] })))
    bridge.kill('SIGHUP')
    await waitFor(() => bridge!.output().includes('configuration reloaded'), 'the reload')
    for (const worker of [first, second]) {
      await through(worker, async () => {
        expect((await postOnNewConnection(setup.port, 'room-101', -1)).status).toBe(401)
        await sendSome(5, 'procs-rotated-2')
      })
    }
    expect(sent.map((s) => s.status), failures()).toEqual(sent.map(() => 200))

    process.kill(first, 'SIGKILL')
    await waitFor(() => workersOf(primary).length === 2 && !workersOf(primary).includes(first), 'a worker in place of the killed one')
    await waitFor(() => bridge!.output().includes('a worker stopped unexpectedly'), 'the log line saying so')
    // The replacement listens once the primary logs nothing more: until then the other worker takes every connection.
    await sendSome(20, 'procs-rotated-2')
    expect(sent.slice(70).map((s) => s.status), failures()).toEqual(sent.slice(70).map(() => 200))

    bridge.kill('SIGTERM')
    expect(await bridge.exited, bridge.output().slice(-3000)).toBe(0)
    expect(bridge.output()).toContain('stopped cleanly: the spool is empty')
    await expectDeliveredInOrder(setup.prefix, sent)
  })

  it('fails to start, naming the port, when the port is taken', async () => {
    const setup = await childSetup('procs', STREAM_SECRET)
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(setup.port, '127.0.0.1', resolve))
    try {
      const exit = await runCli(['serve'], setup.config({ http: { host: '127.0.0.1', port: setup.port, processes: 2 } }))
      expect(exit.code).toBe(1)
      expect(exit.stderr.trim().split('\n')).toEqual([`hotel-kafka-bridge: cannot listen on 127.0.0.1:${setup.port}: the port is already in use (another bridge, or another program)`])
      expect(exit.stdout).not.toContain('"level":"fatal"')
    } finally {
      taken.close()
    }
  })
})
