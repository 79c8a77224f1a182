// The shipped monitoring (deploy/): every PromQL expression of the alert rules and the Grafana dashboard parses with
// Prometheus's own grammar, and every metric it names is one a running bridge exports on /metrics.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parser } from '@prometheus-io/lezer-promql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { startBridge, testConfig, type RunningBridge } from './support/bridge.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface Rule {
  alert: string
  expr: string
  annotations?: { runbook?: string }
}
const rules = (parseYaml(readFileSync(`${ROOT}deploy/prometheus/alerts.yaml`, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules)
const dashboard = JSON.parse(readFileSync(`${ROOT}deploy/grafana/hotel-kafka-bridge.json`, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] }
const panelExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })))
const everyExpr = [...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })), ...panelExprs]

/** Grafana's own variables are replaced before a query reaches Prometheus: the same here. */
const asPrometheusSees = (expr: string): string => expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$__interval', '1m')

/** The syntax errors Prometheus's grammar finds, and the metric names the expression selects. */
function analyse(expr: string): { errors: number[]; metrics: string[] } {
  const text = asPrometheusSees(expr)
  const errors: number[] = []
  const metrics: string[] = []
  const cursor = parser.parse(text).cursor()
  do {
    if (cursor.type.isError) errors.push(cursor.from)
    if (cursor.name === 'Identifier' && cursor.node.parent?.name === 'VectorSelector') metrics.push(text.slice(cursor.from, cursor.to))
  } while (cursor.next())
  return { errors, metrics }
}

/** Every series name /metrics can carry: each family's name, and for histograms their _bucket, _sum and _count. */
function exported(text: string): Set<string> {
  const names = new Set<string>()
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match
    names.add(name!)
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name!}${suffix}`)
  }
  return names
}

describe('shipped monitoring', () => {
  let bridge: RunningBridge
  let metricsText = ''
  beforeAll(async () => {
    bridge = await startBridge(testConfig({ sources: [{ id: 'front-desk', type: 'dv2000', secrets: ['monitoring-secret-1'], silentAfter: '6h' }] }))
    metricsText = await (await fetch(`${bridge.url}/metrics`)).text()
  })
  afterAll(async () => {
    await bridge?.close()
  })

  it('has alerts for Kafka, the spool\'s age and fill, held topics, silent sources, dead letters, failed reloads and refused connections, each with a runbook', () => {
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['BridgeKafkaUnreachable', 'BridgeSpoolBacklogOld', 'BridgeSpoolFilling', 'BridgeTopicHeld', 'BridgeSourceSilent', 'BridgeDeadLetters', 'BridgeReloadFailed', 'BridgeRefusingConnections']),
    )
    const runbooks = readFileSync(`${ROOT}docs/troubleshooting.md`, 'utf8')
    for (const rule of rules) {
      expect(rule.annotations?.runbook, rule.alert).toBe(`docs/troubleshooting.md#${rule.alert.toLowerCase()}`)
      expect(runbooks, `a runbook section for ${rule.alert}`).toContain(`\n## ${rule.alert}\n`)
    }
    expect(panelExprs.length).toBeGreaterThanOrEqual(10)
  })

  it('every expression parses with Prometheus\'s grammar (and the check finds a broken one)', () => {
    for (const { where, expr } of everyExpr) expect(analyse(expr).errors, `${where}: ${expr}`).toEqual([])
    expect(analyse('sum by (le (rate(bridge_requests_total[5m]))').errors.length).toBeGreaterThan(0)
  })

  it('every metric they name is exported by a running bridge', () => {
    const names = exported(metricsText)
    const used = new Set(everyExpr.flatMap(({ expr }) => analyse(expr).metrics))
    expect(used.size).toBeGreaterThanOrEqual(12)
    expect([...used].filter((name) => !names.has(name))).toEqual([])
    // And the check sees a misspelt one.
    expect(names.has('bridge_spool_oldest_entry_age_second')).toBe(false)
  })
})
