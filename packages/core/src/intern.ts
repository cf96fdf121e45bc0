/**
 * `text` as the engine's one shared copy of its characters (V8: the internalized string), for a
 * string that is kept as a key and looked up again and again, such as a session id. Two strings
 * made apart (a cookie's slice, a generated id) are distinct objects, and every `Map` lookup that
 * finds one through the other compares them character by character through a runtime call; two
 * shared copies are one object, found by identity. Property names are always the shared copy, so
 * an object literal's computed key hands it out. Costs an object once: call it where a key is
 * first kept, never per lookup.
 */
export function internString(text: string): string {
  return Object.keys({ [text]: 0 })[0] ?? text
}
