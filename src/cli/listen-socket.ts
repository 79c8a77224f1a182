// Where serve listens: http.host:http.port, or the listening socket systemd (or any supervisor speaking its protocol)
// passed in. A passed socket outlives the process: a restart queues connections in it instead of refusing them.

/** systemd's first passed file descriptor (SD_LISTEN_FDS_START). */
const FIRST_PASSED_FD = 3

/**
 * The fd of a socket passed with systemd's protocol (LISTEN_FDS counts them, LISTEN_PID names the process they are
 * for: a child that inherited the variables is not it), or undefined.
 */
export function passedSocket(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  if (env['LISTEN_PID'] !== String(pid)) return undefined
  const count = Number(env['LISTEN_FDS'])
  if (!Number.isInteger(count) || count < 1) return undefined
  if (count > 1) throw new Error(`systemd passed ${count} sockets (LISTEN_FDS); the bridge listens on one: give its .socket unit a single ListenStream`)
  return FIRST_PASSED_FD
}
