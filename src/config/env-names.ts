// How a config key or a source id is spelled in a BRIDGE_* variable name.

/** `bodyLimitBytes` → `BODY_LIMIT_BYTES`; a source id `front-desk` → `FRONT_DESK`. */
export function envSegment(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase()
}
