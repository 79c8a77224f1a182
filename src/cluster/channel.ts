// Calls between a cluster's primary and a worker over node's IPC channel: a call is answered once, by id, in order sent.
import { BridgeError, type ErrorCode, isBridgeError } from '../errors.js'

/** The end of an IPC channel: `process` in a worker, a `Worker` in the primary. */
export interface Port {
  send(message: unknown): boolean
  on(event: 'message', listener: (message: unknown) => void): unknown
}

type Handler = (...args: never[]) => unknown

interface CallMessage {
  rpc: 'call'
  id: number
  method: string
  args: unknown[]
}

interface ReplyMessage {
  rpc: 'reply'
  id: number
  value?: unknown
  error?: SentError
}

interface NoteMessage {
  rpc: 'note'
  method: string
  args: unknown[]
}

/** An error as it crosses: a BridgeError keeps its code (the HTTP answer depends on it) and retriable flag. */
interface SentError {
  message: string
  code?: ErrorCode
  retriable?: boolean
  /** A system error's code (EADDRINUSE): what the listen error message is chosen by. */
  systemCode?: string
}

export interface Channel {
  /** Resolves with the other end's handler's value, or rejects with its error. */
  call<T>(method: string, ...args: unknown[]): Promise<T>
  /** A message that wants no answer. */
  note(method: string, ...args: unknown[]): void
  /** Rejects what is still waiting for an answer: the other end is gone. */
  close(reason: string): void
}

function sendable(error: unknown): SentError {
  if (isBridgeError(error)) return { message: error.message, code: error.code, retriable: error.retriable }
  const systemCode = (error as NodeJS.ErrnoException | undefined)?.code
  return { message: error instanceof Error ? error.message : String(error), ...(typeof systemCode === 'string' ? { systemCode } : {}) }
}

function received(error: SentError): Error {
  if (error.code !== undefined) return new BridgeError(error.code, error.message, { retriable: error.retriable === true })
  return Object.assign(new Error(error.message), error.systemCode === undefined ? {} : { code: error.systemCode })
}

type Message = CallMessage | ReplyMessage | NoteMessage

/** What crosses: the messages one turn of the event loop sent, together (a process woken per message costs ~70 µs here). */
interface Batch {
  rpc: 'batch'
  messages: Message[]
}

function isBatch(message: unknown): message is Batch {
  return typeof message === 'object' && message !== null && (message as { rpc?: unknown }).rpc === 'batch'
}

export function openChannel(port: Port, handlers: Record<string, Handler>): Channel {
  let nextId = 1
  let closed: string | undefined
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()

  const run = (method: string, args: unknown[]): Promise<unknown> => {
    const handler = handlers[method]
    if (handler === undefined) return Promise.reject(new Error(`no handler for "${method}" at this end of the channel`))
    return Promise.resolve().then(() => (handler as (...a: unknown[]) => unknown)(...args))
  }

  let queued: Message[] = []
  const flush = (): void => {
    const messages = queued
    queued = []
    port.send({ rpc: 'batch', messages } satisfies Batch)
  }
  const send = (message: Message): void => {
    if (queued.push(message) === 1) setImmediate(flush)
  }

  const receive = (message: Message): void => {
    if (message.rpc === 'note') return void run(message.method, message.args).catch(() => {})
    if (message.rpc === 'call') {
      const { id } = message
      run(message.method, message.args).then(
        (value) => send({ rpc: 'reply', id, value }),
        (error: unknown) => send({ rpc: 'reply', id, error: sendable(error) }),
      )
      return
    }
    const call = waiting.get(message.id)
    if (call === undefined) return
    waiting.delete(message.id)
    if (message.error === undefined) call.resolve(message.value)
    else call.reject(received(message.error))
  }
  port.on('message', (message) => {
    if (isBatch(message)) for (const one of message.messages) receive(one)
  })

  return {
    call<T>(method: string, ...args: unknown[]) {
      if (closed !== undefined) return Promise.reject(new BridgeError('SHUTTING_DOWN', closed, { retriable: true }))
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
        send({ rpc: 'call', id, method, args })
      })
    },
    note(method, ...args) {
      if (closed === undefined) send({ rpc: 'note', method, args })
    },
    close(reason) {
      closed = reason
      for (const call of waiting.values()) call.reject(new BridgeError('SHUTTING_DOWN', reason, { retriable: true }))
      waiting.clear()
    },
  }
}
