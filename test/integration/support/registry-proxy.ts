// A proxy in front of the real registry, for tests: it can hold every answer (a slow registry), serve TLS, and demand Basic auth.
import { request as httpRequest, createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

export interface RegistryProxy {
  /** The registry's base URL through the proxy (same path as the target's). */
  url: string
  /** Authorization headers the proxy received, in order. */
  authorizations: (string | undefined)[]
  /** Lets every held request (and later ones) through. */
  release(): void
  close(): Promise<void>
}

export async function startRegistryProxy(
  target: string,
  /** tls.clientCa: demand a client certificate signed by it (mutual TLS). */
  options: { hold?: boolean; tls?: { key: Buffer; cert: Buffer; clientCa?: Buffer }; basicAuth?: string } = {},
): Promise<RegistryProxy> {
  const to = new URL(target)
  const authorizations: (string | undefined)[] = []
  let open = options.hold !== true
  const waiting: (() => void)[] = []
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    authorizations.push(req.headers.authorization)
    if (options.basicAuth !== undefined && req.headers.authorization !== `Basic ${Buffer.from(options.basicAuth).toString('base64')}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error_code":401,"message":"Unauthorized"}')
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const forward = (): void => {
        const upstream = httpRequest(
          { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, host: to.host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers)
            answer.pipe(res)
          },
        )
        upstream.on('error', () => res.destroy())
        upstream.end(Buffer.concat(chunks))
      }
      if (open) forward()
      else waiting.push(forward)
    })
  }
  const tls = options.tls
  const server =
    tls === undefined
      ? createHttpServer(handle)
      : createHttpsServer({ key: tls.key, cert: tls.cert, ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }) }, handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}${to.pathname}`,
    authorizations,
    release() {
      open = true
      for (const go of waiting.splice(0)) go()
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
