// bridge_kafka_up follows Kafka without traffic: produce outcomes count, and an idle bridge probes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createKafkaWatch } from '../../../src/delivery/kafka-watch.js'

beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] }))
afterEach(() => vi.useRealTimers())

function watch(intervalMs = 1_000) {
  let answers = true
  const probe = vi.fn(async () => answers)
  const changes: boolean[] = []
  const w = createKafkaWatch({ probe, intervalMs, onChange: (up) => changes.push(up) })
  return { w, probe, changes, setAnswers: (value: boolean) => (answers = value) }
}

describe('kafka watch', () => {
  it('probes an idle bridge: up once Kafka answers, down when it stops, up again when it returns', async () => {
    const { w, probe, changes, setAnswers } = watch()
    expect(w.up).toBe(false)
    w.start()
    await vi.advanceTimersByTimeAsync(250)
    expect(w.up).toBe(true)
    setAnswers(false)
    await vi.advanceTimersByTimeAsync(1_250)
    expect(w.up).toBe(false)
    setAnswers(true)
    await vi.advanceTimersByTimeAsync(1_250)
    expect(w.up).toBe(true)
    expect(changes).toEqual([true, false, true])
    expect(probe.mock.calls.length).toBeGreaterThanOrEqual(3)
    w.stop()
  })

  it('sends no probe while produce calls keep it informed, and takes their outcome', async () => {
    const { w, probe, changes } = watch()
    w.start()
    w.observe(true)
    for (let i = 0; i < 20; i++) {
      await vi.advanceTimersByTimeAsync(500)
      w.observe(i < 10)
    }
    expect(probe).not.toHaveBeenCalled()
    expect(w.up).toBe(false)
    expect(changes).toEqual([true, false])
    w.stop()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(probe).not.toHaveBeenCalled()
  })

  it('never runs two probes at once when Kafka is slow to answer', async () => {
    let release: (value: boolean) => void = () => undefined
    const probe = vi.fn(() => new Promise<boolean>((resolve) => (release = resolve)))
    const w = createKafkaWatch({ probe, intervalMs: 100 })
    w.start()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(probe).toHaveBeenCalledTimes(1)
    release(true)
    await vi.advanceTimersByTimeAsync(0)
    expect(w.up).toBe(true)
    w.stop()
  })
})
