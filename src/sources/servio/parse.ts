// One Servio webhook body to its changes in body order, or a BAD_INPUT error naming the path that is wrong.
import { badInput, isJsonObject, parseJsonBody } from '../json-body.js'
import { shown } from '../shown.js'
import { actionOf, entityOf } from './names.js'
import { repeatedKey } from './repeated-keys.js'
import type { ServioChange } from './types.js'

/** A decimal string id ("12766", " 12766 "); a sign is let through only to be refused as "not positive". */
const DECIMAL_ID = /^\s*-?\d+\s*$/

/** A key as a path shows it: bare when it is a plain name, quoted when it is not, so stray spaces are visible. */
function pathKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : shown(key)
}

/**
 * Ids are JSON numbers or decimal strings whose value is an integer from 1 to 2^53 - 1.
 * Strings are read because they carry the same integer and cost nothing to accept. Zero and negatives are
 * refused: Servio ids are database keys, and 0 or -1 are what an unset key looks like, not an entity.
 * Above 2^53 - 1 a JSON number has already been rounded by the time it is read, so it cannot be carried exactly.
 */
function idAt(item: unknown, path: string): number {
  let id: number
  if (typeof item === 'number') id = item
  else if (typeof item === 'string' && DECIMAL_ID.test(item)) id = Number(item)
  else throw badInput(`${path} must be an integer id, got ${shown(item)}`)
  if (!Number.isInteger(id)) throw badInput(`${path} must be an integer id, got ${shown(item)}`)
  if (!Number.isSafeInteger(id)) throw badInput(`${path} must be an id of at most 9007199254740991 (2^53 - 1), got ${shown(item)}`)
  if (id < 1) throw badInput(`${path} must be a positive id, got ${shown(item)}`)
  return id
}

/** A key that trims to nothing names no action or entity: the batch is not what the document describes. */
function named(key: string, name: string, what: string, where: string): string {
  if (name === '') throw badInput(`${what} key ${shown(key)}${where} names nothing`)
  return name
}

/**
 * Every (action, entity, id) of a batch such as `{"Add":{"Clients":[12766],"Guests":null},"Update ":null,"Delete":null}`,
 * in the order the body lists them, duplicates included. `null` anywhere means "nothing here". Keys are matched
 * after trimming and lower-casing; two keys that meet that way (`"Update"`, `"Update "`) both count. A key the
 * document does not list (`"Reservations"`, a newer Servio's) keeps its lower-cased name: its changes are not dropped,
 * and they do not hold up the rest of the batch. Anything else (an id that is not one, a list that is not a list) is
 * refused whole, never dropped: the pipeline keeps the raw body in the dead letter.
 */
export function parseServio(body: Buffer): ServioChange[] {
  const { value: batch, text } = parseJsonBody(body)
  if (!isJsonObject(batch)) throw badInput(`the body must be a JSON object of Add, Update and Delete, got ${shown(batch)}`)

  const changes: ServioChange[] = []
  for (const actionKey of Object.keys(batch)) {
    const action = named(actionKey, actionOf(actionKey), 'the action', '')
    const lists = batch[actionKey]
    const actionPath = pathKey(actionKey)
    if (lists === null) continue
    if (!isJsonObject(lists)) throw badInput(`${actionPath} must be an object of Clients, Companies, Guests and Rooms, or null, got ${shown(lists)}`)
    for (const entityKey of Object.keys(lists)) {
      const { entity, listed } = entityOf(entityKey)
      named(entityKey, entity, 'the entity', ` in ${actionPath}`)
      const ids = lists[entityKey]
      const listPath = `${actionPath}.${pathKey(entityKey)}`
      if (ids === null) continue
      if (!Array.isArray(ids)) throw badInput(`${listPath} must be a list of ids or null, got ${shown(ids)}`)
      for (let i = 0; i < ids.length; i++) changes.push({ action, entity, listed, id: idAt(ids[i], `${listPath}[${i}]`) })
    }
  }

  const repeated = repeatedKey(text)
  if (repeated !== undefined) {
    const where = repeated.within.length === 0 ? 'at the top level' : `in ${repeated.within.map(pathKey).join('.')}`
    throw badInput(`the key ${JSON.stringify(repeated.key)} appears more than once ${where}; JSON keeps only the last, so the batch is refused whole`)
  }
  return changes
}
