// `hotel-kafka-bridge health`: asks the bridge on this machine whether it is up (the container's HEALTHCHECK, a probe's exec).
import { request as httpsRequest } from 'node:https'
import { request as httpRequest } from 'node:http'
import type { BridgeConfig } from '../config/schema.js'

/** 0 when GET /healthz (or /readyz with `ready`) answers 200 within `timeoutMs`, else 1, saying why on stderr. */
export async function health(config: BridgeConfig, options: { ready: boolean; timeoutMs: number }): Promise<number> {
  const { host, port, tls } = config.http
  // A bridge listening on every interface is reached on loopback; the certificate is the bridge's own.
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  const path = options.ready ? '/readyz' : '/healthz'
  const request = tls === undefined ? httpRequest : httpsRequest
  return new Promise((resolve) => {
    const req = request({ host: target, port, path, method: 'GET', rejectUnauthorized: false, timeout: options.timeoutMs }, (res) => {
      res.resume()
      if (res.statusCode !== 200) process.stderr.write(`hotel-kafka-bridge: ${path} answered ${res.statusCode}\n`)
      resolve(res.statusCode === 200 ? 0 : 1)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)))
    req.on('error', (error) => {
      process.stderr.write(`hotel-kafka-bridge: ${path} on ${target}:${port}: ${error.message}\n`)
      resolve(1)
    })
    req.end()
  })
}
