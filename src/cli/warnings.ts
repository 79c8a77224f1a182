// Node's warnings on stderr, less one that kafkajs causes and cannot act on.

/**
 * kafkajs 2.2.4 arms `setTimeout(throttledUntil - Date.now())` with throttledUntil -1 whenever a broker connection's
 * request queue is idle (tulios/kafkajs#1751, open; the fix #1768 is unmerged): Node 24 warns
 * `TimeoutNegativeWarning` once per process, on stderr, where a command's output or a container log would show it.
 * Node treats the delay as 1 ms, so nothing is wrong: that warning alone is dropped, every other is printed as Node
 * prints it.
 */
export function dropKafkajsTimeoutWarning(): void {
  const printers = process.listeners('warning')
  process.removeAllListeners('warning')
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return
    for (const print of printers) print(warning)
  })
}
