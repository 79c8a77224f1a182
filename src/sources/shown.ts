// A value as a refusal's reason shows it: its JSON cut short, and a summary where even that fails (a hostile nesting).

export function shown(value: unknown): string {
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    // Nesting deep enough to overflow the stack: the reason says what it is, not what it holds.
    text = Array.isArray(value) ? `an array of ${value.length}, nested too deep to show` : 'an object nested too deep to show'
    return text
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}
