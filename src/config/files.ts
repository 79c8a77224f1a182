// Secrets and TLS material the config names by path (the Docker and Kubernetes convention): read at load, checked, never printed.
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { z } from 'zod'

/** The error a file could not be read with, without its content: the code and path only. */
function unreadable(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  return `cannot read ${path}${code === undefined ? '' : ` (${code})`}`
}

/** The file's text, or an issue on `key` naming its path and why it could not be read. */
function readOrIssue(path: string, ctx: z.RefinementCtx, key: (string | number)[]): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    ctx.addIssue({ code: 'custom', path: key, message: unreadable(path, error) })
    return undefined
  }
}

/** A secret's file: its content without the trailing newline editors and `echo` add; empty is refused. */
export function readSecret(path: string, ctx: z.RefinementCtx, key: (string | number)[]): string | undefined {
  const text = readOrIssue(path, ctx, key)
  if (text === undefined) return undefined
  const secret = text.replace(/\r?\n$/, '')
  if (secret === '') ctx.addIssue({ code: 'custom', path: key, message: `${path} is empty` })
  return secret === '' ? undefined : secret
}

/** A source's secrets file: one secret per line; blank lines and lines starting with # are skipped. */
export function readSecretLines(path: string, ctx: z.RefinementCtx, key: (string | number)[]): string[] {
  const text = readOrIssue(path, ctx, key)
  if (text === undefined) return []
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#'))
  // Which line, never what it holds.
  lines.forEach((line, index) => {
    if (line.length < 8) ctx.addIssue({ code: 'custom', path: key, message: `secret ${index + 1} of ${path} is shorter than 8 characters` })
  })
  if (lines.length === 0) ctx.addIssue({ code: 'custom', path: key, message: `${path} holds no secret` })
  return lines
}

/** A PEM file of certificates (a CA bundle, a client certificate): readable and parseable, or an issue on its key. */
export function checkCertificates(path: string, ctx: z.RefinementCtx, key: (string | number)[]): void {
  const text = readOrIssue(path, ctx, key)
  if (text === undefined) return
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) return void ctx.addIssue({ code: 'custom', path: key, message: `${path} holds no PEM certificate` })
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block)
    } catch {
      ctx.addIssue({ code: 'custom', path: key, message: `certificate ${index + 1} in ${path} is not a valid X.509 certificate` })
    }
  })
}

/** A PEM private key file: readable and parseable (an encrypted key is refused: there is no passphrase key). */
export function checkPrivateKey(path: string, ctx: z.RefinementCtx, key: (string | number)[]): void {
  const text = readOrIssue(path, ctx, key)
  if (text === undefined) return
  try {
    createPrivateKey(text)
  } catch {
    ctx.addIssue({ code: 'custom', path: key, message: `${path} is not an unencrypted PEM private key` })
  }
}
