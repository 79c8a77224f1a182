// The part of fs-native-extensions the spool lock uses (the package ships no types).
declare module 'fs-native-extensions' {
  /** A non-blocking exclusive lock on the open file (Linux: an open-file-description lock); false when another holds it. */
  export function tryLock(fd: number): boolean
}
